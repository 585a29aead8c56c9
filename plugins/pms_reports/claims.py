"""Claim reports: denial rate (by CARC, payer or provider), first-pass
acceptance, payer performance (days to payment, paid against billed and
against contract), and patient balances with the statements sent.
docs/reports.md defines each figure.

Remittance figures count posted remittances only, by their payment date (the
date the payer paid: BPR16, else DTM*405; a remittance with neither is left
out), and leave out reversals (CLP02 22): a reversed and corrected claim payment
counts once, as corrected.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from pms_core.ledger import Account
from pms_core.models import (
    Charge,
    Claim,
    ClaimEvent,
    ClaimLine,
    JournalEntry,
    Payer,
    Posting,
    Provider,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceLine,
    Statement,
    StatementRun,
)
from pms_core.reports import (
    DAYS,
    INT,
    MONEY,
    P_CHOICE,
    P_CODE,
    P_DATE,
    P_INT,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Param,
    ReportResult,
    ratio,
)
from pms_core.services.appointments import local_day_bounds
from pms_reports.common import days_back, names, today

REVERSAL = "22"
PATIENT_RESPONSIBILITY = "PR"


def _range(default_from) -> tuple[Param, Param]:
    return (
        Param("date_from", P_DATE, "first day", default_from),
        Param("date_to", P_DATE, "last day (default today)", today),
    )


def _adjudicated_lines(
    ctx, date_from: date, date_to: date, provider: int | None = None, location: int | None = None
):
    """(line id, denied, remittance payer, claim id, paid day) of every service
    line of a posted, non-reversal claim payment paid in the range."""
    query = (
        select(
            RemittanceLine.id,
            RemittanceLine.denied,
            Remittance.payer_id,
            RemittanceClaim.claim_id,
            RemittanceLine.charge_cents,
        )
        .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(
            Remittance.practice_id == ctx.practice_id,
            Remittance.status == "posted",
            RemittanceClaim.status_code != REVERSAL,
            Remittance.payment_date >= date_from,
            Remittance.payment_date <= date_to,
        )
    )
    if provider is not None or location is not None:
        query = query.join(Claim, Claim.id == RemittanceClaim.claim_id)
        if provider is not None:
            query = query.where(Claim.provider_id == provider)
        if location is not None:
            query = query.where(Claim.location_id == location)
    return ctx.session.execute(query).all()


def _denial_reasons(ctx, line_ids: list[int]) -> dict[int, str]:
    """Each denied line's reason: its largest adjustment other than patient
    responsibility, as GROUP-CARC (CO-50)."""
    reasons: dict[int, tuple[int, str]] = {}
    for start in range(0, len(line_ids), 500):
        chunk = line_ids[start : start + 500]
        for line_id, group, reason, cents in ctx.session.execute(
            select(
                RemittanceAdjustment.remittance_line_id,
                RemittanceAdjustment.group_code,
                RemittanceAdjustment.reason,
                RemittanceAdjustment.amount_cents,
            ).where(
                col(RemittanceAdjustment.remittance_line_id).in_(chunk),
                RemittanceAdjustment.group_code != PATIENT_RESPONSIBILITY,
            )
        ):
            if line_id not in reasons or cents > reasons[line_id][0]:
                reasons[line_id] = (cents, f"{group}-{reason}")
    return {line_id: label for line_id, (_c, label) in reasons.items()}


class Denials:
    name = "denials"
    title = "Denial rate"
    description = "Denied service lines among those adjudicated, by CARC, payer or provider"
    params = (
        *_range(days_back(29)),
        Param("by", P_CHOICE, "one row per CARC, payer or provider", "carc",
              choices=("carc", "payer", "provider")),
        Param("provider", P_INT, "only this provider's claims (provider id)", None, minimum=1),
        Param("location", P_INT, "only this location's claims (location id)", None, minimum=1),
    )  # fmt: skip

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end, by = params["date_from"], params["date_to"], params["by"]
        lines = _adjudicated_lines(ctx, start, end, params["provider"], params["location"])
        denied_ids = [line_id for line_id, denied, *_ in lines if denied]
        reasons = _denial_reasons(ctx, denied_ids)
        claim_provider = {}
        if by == "provider":
            claim_ids = list({claim_id for *_, claim_id, _c in lines if claim_id})
            for startat in range(0, len(claim_ids), 500):
                claim_provider.update(
                    ctx.session.execute(
                        select(Claim.id, Claim.provider_id).where(
                            col(Claim.id).in_(claim_ids[startat : startat + 500])
                        )
                    ).all()
                )
        payers = names(ctx, Payer, "name")
        providers = names(ctx, Provider, "last_name", "first_name")

        def group_of(line) -> str:
            line_id, _denied, payer_id, claim_id, _cents = line
            if by == "payer":
                return payers.get(payer_id, "(unknown payer)")
            if by == "provider":
                return providers.get(claim_provider.get(claim_id), "(unmatched claim)")
            return reasons.get(line_id, "(no reason given)")

        adjudicated: dict[str, int] = defaultdict(int)
        denied: dict[str, int] = defaultdict(int)
        denied_cents: dict[str, int] = defaultdict(int)
        for line in lines:
            if line[1]:
                key = group_of(line)
                denied[key] += 1
                denied_cents[key] += line[4]
            if by != "carc":
                adjudicated[group_of(line)] += 1
        total = len(lines)
        keys = sorted(denied if by == "carc" else adjudicated, key=lambda k: (-denied[k], k))
        rows = [
            {
                "group": key,
                "adjudicated": total if by == "carc" else adjudicated[key],
                "denied": denied[key],
                "denied_billed": denied_cents[key],
                "rate": ratio(denied[key], total if by == "carc" else adjudicated[key]),
            }
            for key in keys
        ]
        all_denied = len(denied_ids)
        return ReportResult(
            name=self.name,
            title=f"Denial rate {start} to {end} by {by}",
            params=dict(params),
            columns=[
                Column("group", {"carc": "Reason", "payer": "Payer", "provider": "Provider"}[by]),
                Column("adjudicated", "Lines adjudicated", INT),
                Column("denied", "Lines denied", INT),
                Column("denied_billed", "Billed on denied lines", MONEY),
                Column("rate", "Denial rate", PERCENT),
            ],
            rows=rows,
            totals={
                "group": "Total",
                "adjudicated": total,
                "denied": all_denied,
                "denied_billed": sum(denied_cents.values()),
                "rate": ratio(all_denied, total),
            },
            definitions=[
                (
                    "Lines adjudicated",
                    "service lines of posted remittances paid in the range, "
                    "reversals (CLP02 22) left out",
                ),
                (
                    "Lines denied",
                    "lines the payer paid nothing on and left nothing to the "
                    "patient, with an adjustment",
                ),
                (
                    "Reason",
                    "a denied line's largest adjustment other than patient "
                    "responsibility, as group and CARC",
                ),
                (
                    "Denial rate",
                    "lines denied / lines adjudicated (by CARC: of all lines adjudicated)",
                ),
            ],  # fmt: skip
            chart=Chart("bar", "group", ("denied",)),
        )


class FirstPass:
    name = "first_pass"
    title = "First-pass acceptance"
    description = "Claims accepted and adjudicated without a rejection or a denial, by payer"
    params = _range(days_back(89))

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end = params["date_from"], params["date_to"]
        first, last = local_day_bounds(ctx.zone(), start, end)
        claims = ctx.session.execute(
            select(Claim.id, Claim.payer_id).where(
                Claim.practice_id == ctx.practice_id,
                Claim.first_submitted_at >= first,
                Claim.first_submitted_at < last,
                Claim.frequency == "1",
            )
        ).all()
        ids = [claim_id for claim_id, _ in claims]
        rejected, denied = set(), set()
        for startat in range(0, len(ids), 500):
            chunk = ids[startat : startat + 500]
            rejected.update(
                ctx.session.execute(
                    select(ClaimEvent.claim_id).where(
                        col(ClaimEvent.claim_id).in_(chunk), ClaimEvent.to_status == "rejected"
                    )
                ).scalars()
            )
            denied.update(
                ctx.session.execute(
                    select(RemittanceClaim.claim_id)
                    .join(RemittanceLine, RemittanceLine.remittance_claim_id == RemittanceClaim.id)
                    .where(col(RemittanceClaim.claim_id).in_(chunk), col(RemittanceLine.denied))
                ).scalars()
            )
        payers = names(ctx, Payer, "name")
        groups: dict[str, list[int]] = defaultdict(list)
        for claim_id, payer_id in claims:
            groups[payers.get(payer_id, str(payer_id))].append(claim_id)

        def counts(group: list[int]) -> dict[str, Any]:
            bad_rejected = sum(c in rejected for c in group)
            bad_denied = sum(c in denied and c not in rejected for c in group)
            clean = len(group) - bad_rejected - bad_denied
            return {
                "submitted": len(group),
                "rejected": bad_rejected,
                "denied": bad_denied,
                "clean": clean,
                "rate": ratio(clean, len(group)),
            }

        rows = [{"payer": name, **counts(groups[name])} for name in sorted(groups)]
        return ReportResult(
            name=self.name,
            title=f"First-pass acceptance of claims first sent {start} to {end}",
            params=dict(params),
            columns=[
                Column("payer", "Payer", TEXT),
                Column("submitted", "Claims sent", INT),
                Column("rejected", "Rejected", INT),
                Column("denied", "Denied", INT),
                Column("clean", "Accepted first time", INT),
                Column("rate", "First-pass rate", PERCENT),
            ],
            rows=rows,
            totals={"payer": "Total", **counts(ids)},
            definitions=[
                (
                    "Claims sent",
                    "original claims (frequency 1) first submitted in the range, local days",
                ),
                ("Rejected", "claims a 999 or 277CA rejected at any time"),
                ("Denied", "claims not rejected with a service line denied on a remittance"),
                (
                    "First-pass rate",
                    "claims neither rejected nor denied / claims sent; a claim "
                    "still waiting for its answer counts as clean",
                ),
            ],  # fmt: skip
        )


def percentile(values: list[int], share: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least `share`
    of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class PayerPerformance:
    name = "payer_performance"
    title = "Payer performance"
    description = (
        "Days from first submission to payment, and what payers paid against billed and contract"
    )
    params = _range(days_back(89))

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end = params["date_from"], params["date_to"]
        zone = ctx.zone()
        first_paid = (
            select(
                RemittanceClaim.claim_id.label("claim_id"),
                func.min(Remittance.payment_date).label("paid_on"),
                func.sum(RemittanceClaim.paid_cents).label("paid"),
            )
            .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
            .where(
                Remittance.practice_id == ctx.practice_id,
                Remittance.status == "posted",
                col(RemittanceClaim.claim_id).is_not(None),
            )
            .group_by(RemittanceClaim.claim_id)
            .subquery()
        )
        expected = (
            select(
                ClaimLine.claim_id.label("claim_id"),
                func.sum(Charge.expected_cents).label("expected"),
            )
            .join(Charge, Charge.id == ClaimLine.charge_id)
            .group_by(ClaimLine.claim_id)
            .subquery()
        )
        rows_found = ctx.session.execute(
            select(
                Claim.payer_id,
                Claim.first_submitted_at,
                Claim.total_cents,
                first_paid.c.paid_on,
                first_paid.c.paid,
                expected.c.expected,
            )
            .join(first_paid, first_paid.c.claim_id == Claim.id)
            .outerjoin(expected, expected.c.claim_id == Claim.id)
            .where(
                Claim.practice_id == ctx.practice_id,
                col(Claim.first_submitted_at).is_not(None),
                first_paid.c.paid_on >= start,
                first_paid.c.paid_on <= end,
            )
        ).all()
        payers = names(ctx, Payer, "name")
        groups: dict[str, list[tuple]] = defaultdict(list)
        for row in rows_found:
            groups[payers.get(row[0], str(row[0]))].append(row)

        def figures(group: list[tuple]) -> dict[str, Any]:
            days = [
                max(0, (paid_on - sent.astimezone(zone).date()).days)
                for _p, sent, _t, paid_on, _paid, _e in group
            ]
            billed = sum(r[2] for r in group)
            paid = sum(r[4] or 0 for r in group)
            with_contract = [r for r in group if r[5]]
            return {
                "claims": len(group),
                "avg_days": round(sum(days) / len(days), 1) if days else None,
                "p90_days": percentile(days, 0.9),
                "billed": billed,
                "paid": paid,
                "paid_of_billed": ratio(paid, billed),
                "paid_of_contract": ratio(
                    sum(r[4] or 0 for r in with_contract), sum(r[5] for r in with_contract)
                ),
            }

        rows = [{"payer": name, **figures(groups[name])} for name in sorted(groups)]
        return ReportResult(
            name=self.name,
            title=f"Payer performance, claims paid {start} to {end}",
            params=dict(params),
            columns=[
                Column("payer", "Payer", TEXT),
                Column("claims", "Claims paid", INT),
                Column("avg_days", "Average days to payment", DAYS),
                Column("p90_days", "90th percentile days", DAYS),
                Column("billed", "Billed", MONEY),
                Column("paid", "Paid", MONEY),
                Column("paid_of_billed", "Paid / billed", PERCENT),
                Column("paid_of_contract", "Paid / contracted", PERCENT),
            ],
            rows=rows,
            totals={"payer": "All payers", **figures(list(rows_found))},
            definitions=[
                ("Claims paid", "claims whose first posted remittance is dated in the range"),
                (
                    "Days to payment",
                    "from the claim's first submission (local day) to its first "
                    "remittance's payment date; the 90th percentile is the nearest-rank one",
                ),
                (
                    "Paid / billed",
                    "the payer's payments on those claims (all remittances, "
                    "reversals netted) / their billed amount",
                ),
                (
                    "Paid / contracted",
                    "the same payments / what the payer's contract fee "
                    "schedule says it pays for the claims' lines, over claims that have one",
                ),
            ],  # fmt: skip
        )


class PatientBalances:
    name = "patient_balances"
    title = "Patient balances and statements"
    description = "What patients owe by age of the balance, credits, and the statements sent"
    params = (
        Param("as_of", P_DATE, "the day balances are taken (default today)", today),
        *_range(days_back(29))[:1],
    )

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        from pms_reports.finance import BUCKETS, aging_buckets

        as_of, since = params["as_of"], params["date_from"]
        owed = aging_buckets(ctx, as_of=as_of, basis="service", by="payer")
        balances = ctx.session.execute(
            select(Posting.patient_id, func.sum(Posting.amount_cents))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(
                Posting.practice_id == ctx.practice_id,
                col(Posting.account).in_((Account.AR_PATIENT.value, Account.UNAPPLIED.value)),
                JournalEntry.entry_date <= as_of,
            )
            .group_by(Posting.patient_id)
        ).all()
        owing = sum(1 for _p, cents in balances if cents and cents > 0)
        credits = -sum(cents for _p, cents in balances if cents and cents < 0)
        start, end = local_day_bounds(ctx.zone(), since, as_of)
        sent, billed = ctx.session.execute(
            select(func.count(Statement.id), func.coalesce(func.sum(Statement.balance_cents), 0))
            .join(StatementRun, StatementRun.id == Statement.run_id)
            .where(
                Statement.practice_id == ctx.practice_id,
                StatementRun.created_at >= start,
                StatementRun.created_at < end,
            )
        ).one()
        aged = owed.get(None, dict.fromkeys(BUCKETS, 0))
        row = {
            "patients_owing": owing,
            **aged,
            "patient_ar": sum(aged.values()),
            "credits": credits,
            "statements": sent,
            "statement_total": int(billed),
        }
        return ReportResult(
            name=self.name,
            title=f"Patient balances as of {as_of}; statements since {since}",
            params=dict(params),
            columns=[
                Column("patients_owing", "Patients owing", INT),
                *[Column(b, b, MONEY) for b in BUCKETS],
                Column("patient_ar", "Patient A/R", MONEY),
                Column("credits", "Credit balances", MONEY),
                Column("statements", "Statements sent", INT),
                Column("statement_total", "Balance on statements", MONEY),
            ],
            rows=[row],
            definitions=[
                (
                    "Patient A/R",
                    "postings to ar:patient dated on or before as_of, aged from "
                    "the date of service",
                ),
                (
                    "Patients owing",
                    "patients whose patient A/R less their unapplied credit is above zero",
                ),
                (
                    "Credit balances",
                    "what patients have paid beyond what they owe (unapplied "
                    "credit net of A/R), to apply or refund",
                ),
                (
                    "Statements sent",
                    "statements made by runs from date_from to as_of, and the balances they showed",
                ),
            ],  # fmt: skip
        )


CLAIM_REPORTS = (Denials(), FirstPass(), PayerPerformance(), PatientBalances())


class DeniedLines:
    """The lines behind the denial rate: each denied service line, with its
    claim, payer and reason in words."""

    name = "denied_lines"
    title = "Denied lines"
    description = "Each service line denied in a date range, with its reason"
    params = (
        *_range(days_back(29)),
        Param("reason", P_CODE, "only this reason, as GROUP-CARC (CO-50)", ""),
        Param("provider", P_INT, "only this provider's claims (provider id)", None, minimum=1),
        Param("location", P_INT, "only this location's claims (location id)", None, minimum=1),
    )

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        from pms_core.adjustment_codes import adjustment_words

        start, end = params["date_from"], params["date_to"]
        lines = _adjudicated_lines(ctx, start, end, params["provider"], params["location"])
        denied = [line for line in lines if line[1]]
        reasons = _denial_reasons(ctx, [line[0] for line in denied])
        wanted = (params["reason"] or "").upper()
        ids = [line[0] for line in denied if not wanted or reasons.get(line[0]) == wanted]
        details = {}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            for line_id, claim_number, code, service, billed, paid_on in ctx.session.execute(
                select(
                    RemittanceLine.id,
                    RemittanceClaim.claim_number,
                    RemittanceLine.procedure,
                    func.coalesce(RemittanceLine.service_from, RemittanceClaim.service_from),
                    RemittanceLine.charge_cents,
                    Remittance.payment_date,
                )
                .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
                .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
                .where(col(RemittanceLine.id).in_(chunk))
            ):
                details[line_id] = (claim_number, code, service, billed, paid_on)
        payers = names(ctx, Payer, "name")
        payer_of = {line[0]: line[2] for line in denied}
        claim_of = {line[0]: line[3] for line in denied}
        rows = []
        for line_id in ids:
            claim_number, code, service, billed, paid_on = details[line_id]
            reason = reasons.get(line_id, "")
            group, _, carc = reason.partition("-")
            rows.append(
                {
                    "paid_on": paid_on,
                    "claim": claim_number,
                    "service_date": service,
                    "code": code,
                    "payer": payers.get(payer_of[line_id], ""),
                    "reason": reason,
                    "words": adjustment_words(group, carc, ctx.session) if carc else "",
                    "billed": billed,
                }
            )
        order = sorted(range(len(rows)), key=lambda i: (rows[i]["paid_on"], rows[i]["claim"]))
        rows = [rows[i] for i in order]
        drill = {n: [claim_of[ids[i]]] for n, i in enumerate(order) if claim_of[ids[i]]}
        return ReportResult(
            name=self.name,
            title=f"Denied lines {start} to {end}" + (f", {wanted}" if wanted else ""),
            params=dict(params),
            columns=[
                Column("paid_on", "Remittance date", "date"),
                Column("claim", "Claim", TEXT),
                Column("service_date", "Date of service", "date"),
                Column("code", "Code", TEXT),
                Column("payer", "Payer", TEXT),
                Column("reason", "Reason", TEXT),
                Column("words", "In words", TEXT),
                Column("billed", "Billed", MONEY),
            ],
            rows=rows,
            totals={"claim": "Total", "billed": sum(r["billed"] for r in rows)},
            definitions=[("Denied", "see the denials report")],
            drill=drill,
            drill_kind="claim",
        )


CLAIM_REPORTS = (*CLAIM_REPORTS, DeniedLines())
__all__ = ["CLAIM_REPORTS", "percentile"]
