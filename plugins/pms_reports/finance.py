"""Money reports, all read from the ledger's postings (docs/reports.md
defines each figure): A/R aging, days in A/R, collections by month, and the
month-end summary by provider and location.

Each is one aggregate query over `posting` joined to its journal entry (for
the business date) and, where a figure needs it, to the charge and encounter
it belongs to. Amounts are integer cents throughout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlmodel import col

from pms_core import audit
from pms_core.ledger import Account, closed_through
from pms_core.models import (
    Charge,
    Claim,
    ClaimLine,
    Encounter,
    JournalEntry,
    Location,
    Payer,
    Posting,
    Provider,
)
from pms_core.reports import (
    DAYS,
    INT,
    MONEY,
    P_CHOICE,
    P_DATE,
    P_INT,
    P_MONTH,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Param,
    ReportResult,
    ratio,
)
from pms_core.services.appointments import local_day_bounds
from pms_core.services.periods import month_end
from pms_reports.common import month_start, months_back, names, patient_names, today

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")
BUCKET_DAYS = (30, 60, 90, 120)
RECEIVABLES = (Account.AR_PATIENT.value, Account.AR_INSURANCE.value)
OTHER_ADJUSTMENTS = (
    Account.ADJ_OTHER.value,
    Account.ADJ_WRITE_OFF.value,
    Account.ADJ_PROVIDER.value,
)
PATIENT_RESPONSIBILITY = "Patient responsibility"
NOT_ASSIGNED = "(not assigned)"


def _in_period(date_from: date, date_to: date):
    return and_(JournalEntry.entry_date >= date_from, JournalEntry.entry_date <= date_to)


@dataclass(frozen=True)
class Scope:
    """A provider and/or location to narrow money figures to: a posting's own,
    else those of the encounter its charge belongs to (see docs/reports.md)."""

    provider_id: int | None = None
    location_id: int | None = None

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> Scope:
        return cls(params.get("provider"), params.get("location"))


EVERYWHERE = Scope()
SCOPE_PARAMS = (
    Param("provider", P_INT, "only this provider's figures (provider id)", None, minimum=1),
    Param("location", P_INT, "only this location's figures (location id)", None, minimum=1),
)


def _posting_query(ctx, *columns, scope: Scope = EVERYWHERE, encounter: bool = False):
    """SELECT columns FROM posting, its journal entry and (outer) its charge;
    and the charge's encounter when `encounter` or a scope asks for it."""
    query = (
        select(*columns)
        .select_from(Posting)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(Charge, Charge.id == Posting.charge_id)
        .where(Posting.practice_id == ctx.practice_id)
    )
    if encounter or scope != EVERYWHERE:
        query = query.outerjoin(Encounter, Encounter.id == Charge.encounter_id)
    if scope.provider_id is not None:
        query = query.where(
            func.coalesce(Posting.provider_id, Encounter.provider_id) == scope.provider_id
        )
    if scope.location_id is not None:
        query = query.where(
            func.coalesce(Posting.location_id, Encounter.location_id) == scope.location_id
        )
    return query


# --- A/R aging -----------------------------------------------------------------------
def _bucket_case(value, limits: list[Any]):
    """The aging bucket of `value` (a date or timestamp) against the lower
    limits of the first four buckets (newest first)."""
    return case(
        *[(value >= limit, literal(name)) for limit, name in zip(limits, BUCKETS, strict=False)],
        else_=literal(BUCKETS[-1]),
    )


def aging_buckets(
    ctx, *, as_of: date, basis: str, by: str, scope: Scope = EVERYWHERE
) -> dict[Any, dict[str, int]]:
    """Open receivables as of `as_of` in aging buckets: {group: {bucket: cents}}.

    A posting ages from its charge's date of service (`basis` "service") or
    from the first time a claim carrying that charge was submitted
    ("submission"; a charge never submitted ages from its date of service).
    A balance with no charge (an opening balance, and what was paid against
    it) ages, per patient and account, from the earliest such entry: a payment
    on an old balance makes the old balance smaller, not a new credit. `by` "payer" groups insurance A/R by
    payer and all patient A/R as None; "patient" groups by patient id."""
    uncharged = (
        select(
            Posting.patient_id.label("patient_id"),
            Posting.account.label("account"),
            func.min(JournalEntry.entry_date).label("since"),
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            Posting.practice_id == ctx.practice_id,
            col(Posting.charge_id).is_(None),
            col(Posting.account).in_(RECEIVABLES),
            JournalEntry.entry_date <= as_of,
        )
        .group_by(Posting.patient_id, Posting.account)
        .subquery()
    )
    entry_or_service = func.coalesce(Charge.service_date, uncharged.c.since)
    day_limits = [as_of - timedelta(days=n) for n in BUCKET_DAYS]
    bucket = _bucket_case(entry_or_service, day_limits)
    query_from = None
    if basis == "submission":
        zone = ctx.zone()
        instant_limits = [local_day_bounds(zone, d, d)[0] for d in day_limits]
        first = (
            select(
                ClaimLine.charge_id.label("charge_id"),
                func.min(Claim.first_submitted_at).label("first_submitted"),
            )
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(Claim.practice_id == ctx.practice_id, col(Claim.first_submitted_at).is_not(None))
            .group_by(ClaimLine.charge_id)
            .subquery()
        )
        bucket = case(
            (
                first.c.first_submitted.is_not(None),
                _bucket_case(first.c.first_submitted, instant_limits),
            ),
            else_=bucket,
        )
        query_from = first
    group = (
        case((Posting.account == Account.AR_PATIENT.value, None), else_=Posting.payer_id)
        if by == "payer"
        else Posting.patient_id
    )
    query = (
        _posting_query(
            ctx,
            group.label("grp"),
            bucket.label("bucket"),
            func.sum(Posting.amount_cents),
            scope=scope,
        )
        .outerjoin(
            uncharged,
            and_(
                col(Posting.charge_id).is_(None),
                uncharged.c.patient_id == Posting.patient_id,
                uncharged.c.account == Posting.account,
            ),
        )
        .where(col(Posting.account).in_(RECEIVABLES), JournalEntry.entry_date <= as_of)
        .group_by(group, bucket)
    )
    if query_from is not None:
        query = query.outerjoin(query_from, query_from.c.charge_id == Posting.charge_id)
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    for grp, name, cents in ctx.session.execute(query):
        out[grp][name] += int(cents or 0)
    return {k: v for k, v in out.items() if any(v.values())}


class ArAging:
    name = "ar_aging"
    title = "A/R aging"
    description = "Open receivables in 30-day buckets, by payer or by patient"
    params = (
        Param("as_of", P_DATE, "the day the balances are taken (default today)", today),
        Param(
            "basis", P_CHOICE, "age from the date of service or from first submission",
            "service", choices=("service", "submission"),
        ),
        Param("by", P_CHOICE, "one row per payer or per patient", "payer", choices=("payer", "patient")),
        *SCOPE_PARAMS,
    )  # fmt: skip

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        as_of, basis, by = params["as_of"], params["basis"], params["by"]
        buckets = aging_buckets(ctx, as_of=as_of, basis=basis, by=by, scope=Scope.of(params))
        labels = names(ctx, Payer, "name") if by == "payer" else patient_names(ctx, list(buckets))
        rows = []
        for key, amounts in buckets.items():
            label = (
                (PATIENT_RESPONSIBILITY if key is None else labels.get(key, f"payer {key}"))
                if (by == "payer")
                else labels.get(key, f"patient {key}")
            )
            rows.append({"name": label, **amounts, "total": sum(amounts.values())})
        rows.sort(key=lambda r: (r["name"] == PATIENT_RESPONSIBILITY, r["name"]))
        if by == "patient" and rows:
            audit.record_read(
                ctx, action="report.patients", detail={"report": self.name, "patients": len(rows)}
            )
        totals = {"name": "Total", **{b: sum(r[b] for r in rows) for b in (*BUCKETS, "total")}}
        columns = [Column("name", "Payer" if by == "payer" else "Patient", TEXT)]
        columns += [Column(b, b, MONEY) for b in (*BUCKETS, "total")]
        columns[-1] = Column("total", "Total", MONEY)
        basis_words = "date of service" if basis == "service" else "first submission"
        return ReportResult(
            name=self.name,
            title=f"A/R aging by {by} as of {as_of} (from {basis_words})",
            params=dict(params),
            columns=columns,
            rows=rows,
            totals=totals,
            definitions=[
                (
                    "Open A/R",
                    "the sum of postings to ar:insurance and ar:patient dated on or "
                    "before as_of: what payers and patients still owe",
                ),
                (
                    "Bucket",
                    f"days from the {basis_words} to as_of: 0-30, 31-60, 61-90, 91-120, "
                    "over 120; a balance with no charge ages from its entry date",
                ),
            ],  # fmt: skip
            chart=Chart("bar", "name", BUCKETS),
        )


# --- days in A/R -----------------------------------------------------------------------
def receivables(ctx, as_of: date, scope: Scope = EVERYWHERE) -> int:
    """Open A/R in cents as of `as_of` (the ledger's ar:* balance that day)."""
    total = ctx.session.execute(
        _posting_query(ctx, func.coalesce(func.sum(Posting.amount_cents), 0), scope=scope).where(
            col(Posting.account).in_(RECEIVABLES), JournalEntry.entry_date <= as_of
        )
    ).scalar_one()
    return int(total)


class DaysInAr:
    name = "days_in_ar"
    title = "Days in A/R"
    description = "Open A/R divided by the average day's charges over a window"
    params = (
        Param("as_of", P_DATE, "the day the A/R is taken (default today)", today),
        Param("window", P_INT, "days of charges averaged (default 90)", 90, minimum=1, maximum=730),
        *SCOPE_PARAMS,
    )

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        as_of, window = params["as_of"], params["window"]
        scope = Scope.of(params)
        open_ar = receivables(ctx, as_of, scope)
        start = as_of - timedelta(days=window - 1)
        charged = period_figures(ctx, start, as_of, scope=scope)[None]["charges"]
        per_day = charged / window
        days = None if not charged else round(open_ar / per_day, 1)
        row = {
            "as_of": as_of,
            "open_ar": open_ar,
            "charges": charged,
            "per_day": round(per_day),
            "days": days,
        }
        return ReportResult(
            name=self.name,
            title=f"Days in A/R as of {as_of} ({window}-day window)",
            params=dict(params),
            columns=[
                Column("as_of", "As of", "date"),
                Column("open_ar", "Open A/R", MONEY),
                Column("charges", f"Charges, last {window} days", MONEY),
                Column("per_day", "Average day's charges", MONEY),
                Column("days", "Days in A/R", DAYS),
            ],
            rows=[row],
            definitions=[
                ("Days in A/R", "open A/R as of as_of / (charges in the window / window days)"),
                ("Charges", "charges posted (net of voids) with an entry date in the window"),
            ],
        )


# --- collections and month-end -----------------------------------------------------------
FIGURES = ("charges", "payments", "contractual", "other_adjustments", "refunds")


def _figure_columns():
    amount = Posting.amount_cents
    account, reason = Posting.account, func.coalesce(Posting.reason, "")
    patient_payment = JournalEntry.kind == "patient_payment"
    return {
        "charges": func.sum(case((account == Account.CHARGES.value, -amount), else_=0)),
        "payments": func.sum(
            case(
                (
                    and_(account == Account.CASH.value, ~patient_payment, reason != "refund"),
                    amount,
                ),
                (
                    and_(
                        patient_payment,
                        or_(
                            account == Account.AR_PATIENT.value,
                            account == Account.UNAPPLIED.value,
                        ),
                    ),
                    -amount,
                ),
                else_=0,
            )
        ),
        "contractual": func.sum(case((account == Account.ADJ_CONTRACTUAL.value, amount), else_=0)),
        "other_adjustments": func.sum(
            case((col(Posting.account).in_(OTHER_ADJUSTMENTS), amount), else_=0)
        ),
        "refunds": func.sum(
            case((and_(account == Account.CASH.value, reason == "refund"), -amount), else_=0)
        ),
    }


def period_figures(
    ctx, date_from: date, date_to: date, *group, scope: Scope = EVERYWHERE
) -> dict[Any, dict[str, int]]:
    """Charges, payments, contractual and other adjustments and refunds posted
    with an entry date in [date_from, date_to], grouped by `group` (column
    expressions, which may use Encounter; none: one group, key None). See
    docs/reports.md."""
    figures = _figure_columns()
    query = _posting_query(ctx, *group, *figures.values(), scope=scope, encounter=True).where(
        _in_period(date_from, date_to)
    )
    if group:
        query = query.group_by(*group)
    out: dict[Any, dict[str, int]] = {}
    for row in ctx.session.execute(query):
        key = tuple(row[: len(group)]) if len(group) > 1 else (row[0] if group else None)
        out[key] = {name: int(v or 0) for name, v in zip(figures, row[len(group) :], strict=True)}
    if not group:
        out.setdefault(None, dict.fromkeys(FIGURES, 0))
    return out


def _rates(fig: dict[str, int]) -> dict[str, Any]:
    return {
        "gross_rate": ratio(fig["payments"], fig["charges"]),
        "net_rate": ratio(fig["payments"], fig["charges"] - fig["contractual"]),
    }


FIGURE_COLUMNS = [
    Column("charges", "Charges", MONEY),
    Column("payments", "Payments", MONEY),
    Column("contractual", "Contractual adj.", MONEY),
    Column("other_adjustments", "Other adj.", MONEY),
    Column("refunds", "Refunds", MONEY),
]
FIGURE_DEFINITIONS = [
    ("Charges", "charges posted (credits to revenue:charges; a void counts against them)"),
    ("Payments", "money received: payer payments as deposited (after provider-level "
     "adjustments) and patient payments, refunds not deducted"),
    ("Contractual adj.", "contractual adjustments (CAS group CO): what contracts say is not owed"),
    ("Other adj.", "other adjustments, write-offs and provider-level adjustments"),
    ("Refunds", "money paid back to patients"),
]  # fmt: skip


class Collections:
    name = "collections"
    title = "Collections by month"
    description = "Charges, payments, adjustments and gross and net collection rates, by month"
    params = (
        Param("date_from", P_DATE, "first day (default: the month a year ago)", months_back),
        Param("date_to", P_DATE, "last day (default today)", today),
        *SCOPE_PARAMS,
    )

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end = params["date_from"], params["date_to"]
        months: dict[str, dict[str, int]] = {}
        for first in _months(start, end):
            last = min(month_end(first), end)
            months[f"{first:%Y-%m}"] = period_figures(
                ctx, max(first, start), last, scope=Scope.of(params)
            )[None]
        rows = [{"month": m, **fig, **_rates(fig)} for m, fig in months.items()]
        total = {name: sum(r[name] for r in rows) for name in FIGURES}
        return ReportResult(
            name=self.name,
            title=f"Collections {start} to {end}",
            params=dict(params),
            columns=[
                Column("month", "Month", TEXT),
                *FIGURE_COLUMNS,
                Column("gross_rate", "Gross collection rate", PERCENT),
                Column("net_rate", "Net collection rate", PERCENT),
            ],
            rows=rows,
            totals={"month": "Total", **total, **_rates(total)},
            definitions=[
                *FIGURE_DEFINITIONS,
                ("Gross collection rate", "payments / charges"),
                ("Net collection rate", "payments / (charges - contractual adjustments)"),
                (
                    "Date basis",
                    "each posting's entry date (date of service for charges, "
                    "deposit or payment date for money)",
                ),
            ],  # fmt: skip
            chart=Chart("line", "month", ("charges", "payments")),
        )


def _months(start: date, end: date):
    first = start.replace(day=1)
    while first <= end:
        yield first
        first = month_end(first) + timedelta(days=1)


class MonthEnd:
    name = "month_end"
    title = "Month-end summary"
    description = "Charges, payments, adjustments and refunds of one month by provider and location"
    params = (Param("month", P_MONTH, "the month, YYYY-MM (default this month)", month_start),)

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        first = params["month"]
        last = month_end(first)
        provider = func.coalesce(Posting.provider_id, Encounter.provider_id)
        location = func.coalesce(Posting.location_id, Encounter.location_id)
        figures = period_figures(ctx, first, last, provider, location)
        providers = names(ctx, Provider, "last_name", "first_name")
        locations = names(ctx, Location, "name")
        rows = [
            {
                "provider": providers.get(p, NOT_ASSIGNED),
                "location": locations.get(loc, NOT_ASSIGNED),
                **fig,
            }
            for (p, loc), fig in figures.items()
            if any(fig.values())
        ]
        rows.sort(key=lambda r: (r["provider"] == NOT_ASSIGNED, r["provider"], r["location"]))
        totals = {
            "provider": "Total",
            "location": "",
            **{f: sum(r[f] for r in rows) for f in FIGURES},
        }
        through = closed_through(ctx.session, ctx.practice_id)
        state = "closed" if through is not None and through >= last else "open"
        return ReportResult(
            name=self.name,
            title=f"Month-end summary {first:%Y-%m} ({state})",
            params={"month": f"{first:%Y-%m}"},
            columns=[
                Column("provider", "Provider", TEXT),
                Column("location", "Location", TEXT),
                *FIGURE_COLUMNS,
            ],
            rows=rows,
            totals=totals,
            definitions=[
                *FIGURE_DEFINITIONS,
                (
                    "Provider and location",
                    "the posting's own, else those of the encounter its "
                    "charge belongs to; money not tied to a visit (an unapplied payment, a "
                    "provider-level adjustment) is 'not assigned'",
                ),
                ("Date basis", "entry dates within the month"),
            ],  # fmt: skip
        )


FINANCE_REPORTS = (ArAging(), DaysInAr(), Collections(), MonthEnd())


# --- the lists behind the figures ----------------------------------------------------------
class OpenItems:
    """The charges behind A/R aging: each charge (or uncharged balance) still
    open on `as_of`, with who owes it and its bucket."""

    name = "open_items"
    title = "Open A/R items"
    description = "Every charge with an open balance, its age bucket and who owes it"
    params = (
        Param("as_of", P_DATE, "the day the balances are taken (default today)", today),
        Param("bucket", P_CHOICE, "only this age bucket", "all", choices=("all", *BUCKETS)),
        Param("owed_by", P_CHOICE, "insurance or patient balances", "all",
              choices=("all", "insurance", "patient")),
        *SCOPE_PARAMS,
    )  # fmt: skip

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        as_of, wanted = params["as_of"], params["bucket"]
        limits = [as_of - timedelta(days=n) for n in BUCKET_DAYS]
        accounts = {
            "all": RECEIVABLES,
            "insurance": (Account.AR_INSURANCE.value,),
            "patient": (Account.AR_PATIENT.value,),
        }[params["owed_by"]]
        query = (
            _posting_query(
                ctx,
                Posting.charge_id,
                Posting.patient_id,
                Posting.account,
                Posting.payer_id,
                Charge.service_date,
                Charge.code,
                func.min(JournalEntry.entry_date),
                func.sum(Posting.amount_cents),
                scope=Scope.of(params),
            )
            .where(col(Posting.account).in_(accounts), JournalEntry.entry_date <= as_of)
            .group_by(
                Posting.charge_id,
                Posting.patient_id,
                Posting.account,
                Posting.payer_id,
                Charge.service_date,
                Charge.code,
            )
            .having(func.sum(Posting.amount_cents) != 0)
        )
        payers = names(ctx, Payer, "name")
        rows = []
        for (
            charge_id,
            patient_id,
            account,
            payer_id,
            service,
            code,
            entered,
            cents,
        ) in ctx.session.execute(query):
            since = service or entered
            bucket = next(
                (b for limit, b in zip(limits, BUCKETS, strict=False) if since >= limit),
                BUCKETS[-1],
            )
            if wanted != "all" and bucket != wanted:
                continue
            rows.append(
                {
                    "charge_id": charge_id,
                    "patient_id": patient_id,
                    "service_date": since,
                    "code": code or "(balance)",
                    "owed_by": PATIENT_RESPONSIBILITY
                    if account == Account.AR_PATIENT.value
                    else payers.get(payer_id, f"payer {payer_id}"),
                    "bucket": bucket,
                    "open": int(cents),
                }
            )
        rows.sort(key=lambda r: (r["service_date"], r["charge_id"] or 0))
        people = patient_names(ctx, sorted({r["patient_id"] for r in rows if r["patient_id"]}))
        for row in rows:
            row["patient"] = people.get(row.pop("patient_id"), "")
        if rows:
            audit.record_read(
                ctx, action="report.patients", detail={"report": self.name, "patients": len(people)}
            )
        return ReportResult(
            name=self.name,
            title=f"Open A/R items as of {as_of}" + ("" if wanted == "all" else f", {wanted} days"),
            params=dict(params),
            columns=[
                Column("service_date", "Date of service", "date"),
                Column("patient", "Patient", TEXT),
                Column("code", "Code", TEXT),
                Column("owed_by", "Owed by", TEXT),
                Column("bucket", "Age", TEXT),
                Column("open", "Open", MONEY),
            ],
            rows=rows,
            totals={"service_date": None, "patient": "Total", "open": sum(r["open"] for r in rows)},
            definitions=[("Open", "what is still owed on the charge on as_of (see ar_aging)")],
            drill={i: [r["charge_id"]] for i, r in enumerate(rows) if r["charge_id"]},
            drill_kind="charge",
        )


class PaymentsReceived:
    """The money behind the collection figures: each payment received in the
    range (payer payments per remittance, patient payments per receipt)."""

    name = "payments_received"
    title = "Payments received"
    description = "Each payment received in a date range, payer or patient"
    params = (
        Param("date_from", P_DATE, "first day (default the first of this month)", month_start),
        Param("date_to", P_DATE, "last day (default today)", today),
    )

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end = params["date_from"], params["date_to"]
        received = _figure_columns()["payments"]
        query = (
            _posting_query(
                ctx,
                JournalEntry.id,
                JournalEntry.entry_date,
                JournalEntry.kind,
                JournalEntry.memo,
                received,
            )
            .where(_in_period(start, end))
            .group_by(
                JournalEntry.id, JournalEntry.entry_date, JournalEntry.kind, JournalEntry.memo
            )
            .having(received != 0)
            .order_by(JournalEntry.entry_date, JournalEntry.id)
        )
        rows = [
            {"entry": entry_id, "date": day, "kind": kind.replace("_", " "), "memo": memo,
             "amount": int(cents)}
            for entry_id, day, kind, memo, cents in ctx.session.execute(query)
        ]  # fmt: skip
        return ReportResult(
            name=self.name,
            title=f"Payments received {start} to {end}",
            params=dict(params),
            columns=[
                Column("date", "Date", "date"),
                Column("entry", "Entry", INT),
                Column("kind", "Kind", TEXT),
                Column("memo", "Memo", TEXT),
                Column("amount", "Amount", MONEY),
            ],
            rows=rows,
            totals={"date": None, "kind": "Total", "amount": sum(r["amount"] for r in rows)},
            definitions=[FIGURE_DEFINITIONS[1]],
        )


FINANCE_REPORTS = (*FINANCE_REPORTS, OpenItems(), PaymentsReceived())
__all__ = ["FINANCE_REPORTS", "Scope", "aging_buckets", "period_figures", "receivables"]
