"""The sandbox payer's claims desk: 837s in; 999, 277CA and, some days later,
835s out. Every decision is a roll of the seed (see `payer.roll`).

- **Receipt** (`receive_837`): a 999 accepting the file's sets, and a 277CA
  accepting each claim with a payer claim number, or rejecting it: an
  invalid member id (see payer.MEMBER_ID) and about one claim in forty (the
  member is not on file) get A7/A3 statuses.
- **Adjudication** (`due_remittances`), 3 to 9 days after receipt in the
  sandbox's calendar (the latest date seen on a file it received, moved on
  by the real days since): per line an allowed amount from the sandbox's fee
  schedule (55-75% of the charge by code), CO-45 for the rest; the member's
  deductible (PR-1, tracked per member and year), the office visit copay on
  E/M codes (PR-3), 20% coinsurance (PR-2). A member whose coverage ended is
  denied (CO-27, N30); about one claim in thirty is denied as not medically
  necessary (CO-50, N115); about one line in twenty-five is bundled (CO-97,
  M15). A secondary claim is paid 80% of what the sandbox left to the
  patient as primary on the same lines (their REF*6R), the rest stays with
  the patient (PR-2), the primary's part is CO-23. About one paid claim in
  fifty is reversed and paid again a few days later (CLP02 22, then the
  corrected payment), and some remittances carry a small interest (PLB L6).
  A replacement (frequency 7) reverses the payment it replaces; a void (8)
  only reverses.

State (what it received and paid) is one JSON file in the sandbox folder,
its calendar another.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pms_sandbox_payer.payer import INACTIVE_IN_100, MEMBER_ID, roll

PAYER_TIN = "999888777"
SANDBOX_ID = "SANDBOXCH"
E_AND_M = re.compile(r"992\d\d")


@dataclass
class Outgoing:
    name: str
    content: bytes


class Calendar:
    """The sandbox's today: the latest date seen on a file it received, moved
    on by the real days since (a file of its own, small: every request reads it)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "calendar.json"
        self.state = json.loads(self.path.read_text()) if self.path.exists() else {}

    def saw(self, day: date) -> None:
        """A file dated `day` arrived: the calendar is at least there."""
        if day.isoformat() > self.state.get("seen", ""):
            self.state = {"seen": day.isoformat(), "at": datetime.now(UTC).date().isoformat()}
            tmp = self.path.with_name(f".{self.path.name}.part")
            tmp.write_text(json.dumps(self.state))
            tmp.replace(self.path)

    def today(self) -> date:
        if not self.state:
            return datetime.now(UTC).date()
        real_days = (datetime.now(UTC).date() - date.fromisoformat(self.state["at"])).days
        return date.fromisoformat(self.state["seen"]) + timedelta(days=max(real_days, 0))


class ClaimsDesk:
    """Receives 837s and writes the payer's answers (see the module docstring)."""

    def __init__(self, folder: Path, seed: str) -> None:
        self.folder, self.seed = folder, seed
        self.calendar = Calendar(folder)
        self.path = folder / "claims-desk.json"
        self.state = json.loads(self.path.read_text()) if self.path.exists() else {
            "control": 0, "claims": {}, "lines": {}, "deductible": {}, "paid": {},
        }  # fmt: skip

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.part")
        tmp.write_text(json.dumps(self.state, sort_keys=True))
        tmp.replace(self.path)

    def today(self) -> date:
        return self.calendar.today()

    def _control(self) -> int:
        self.state["control"] += 1
        return self.state["control"]

    def _envelope(self, receiver_id: str):
        from pms_x12.payer_side import ResponseEnvelope

        from pms_core.claimdata import Party

        return ResponseEnvelope(
            Party("ZZ", SANDBOX_ID, SANDBOX_ID, "SANDBOX CLEARINGHOUSE"),
            Party("ZZ", receiver_id, receiver_id, "PRACTICE"),
            self._control(),
            datetime.combine(self.today(), datetime.min.time(), UTC),
            production=False,
        )

    # --- receipt ------------------------------------------------------------------------
    def receive_837(self, name: str, content: bytes, sent: date | None) -> list[Outgoing]:
        """The 999 and 277CA for one received 837 file; accepted claims are
        queued for adjudication."""
        from pms_x12 import payer_side as ps

        if sent is not None:
            self.calendar.saw(sent)
        claims = ps.read_837(content)
        envelope = self._envelope(claims[0].envelope.sender_id)
        out = [Outgoing(f"999-{name}", ps.write_999(envelope, ps.group_verdicts(claims)).encode())]
        verdicts = []
        for c in claims:
            status = self._verdict(c)
            number = f"SBX{roll(self.seed, 'icn', c.claim_number, c.frequency) % 10**10:010d}"
            verdicts.append(
                ps.ClaimVerdict(
                    c.claim_number, c.total_cents, c.patient, c.member_id, c.billing,
                    c.service_from or self.today(), c.service_to, statuses=(status,),
                    payer_claim_number=number if status == ps.ACCEPTED else None,
                )
            )  # fmt: skip
            if status == ps.ACCEPTED:
                self._queue(c, number)
        payer = self._payer(claims[0].payer_id)
        ack = ps.write_277ca(
            self._envelope(claims[0].envelope.sender_id), payer=payer, claims=verdicts,
            batch=claims[0].envelope.reference, received=self.today(), processed=self.today(),
        )  # fmt: skip
        out.append(Outgoing(f"277CA-{name}", ack.encode()))
        return out

    def _verdict(self, c):
        from pms_x12 import payer_side as ps

        if not MEMBER_ID.fullmatch(c.member_id.upper()):
            return ps.INVALID_MEMBER_ID
        if roll(self.seed, "on-file", c.claim_number) % 40 == 0:
            return ps.SUBSCRIBER_NOT_FOUND
        return ps.ACCEPTED

    def _payer(self, payer_id: str):
        from pms_x12.payer_side import Payer

        from pms_core.claimdata import Address

        return Payer(
            f"SANDBOX PAYER {payer_id}"[:60], payer_id, PAYER_TIN,
            Address("1 SANDBOX PLAZA", "SPRINGFIELD", "IL", "62701"), "8005550199",
        )  # fmt: skip

    def _queue(self, c, payer_claim_number: str) -> None:
        received = self.today()
        delay = 3 + roll(self.seed, "delay", c.claim_number, c.frequency) % 7
        b = c.billing
        self.state["claims"][f"{c.claim_number}:{payer_claim_number}"] = {
            "claim_number": c.claim_number,
            "icn": payer_claim_number,
            "replaces": c.payer_claim_number,
            "frequency": c.frequency,
            "responsibility": c.responsibility,
            "payer_id": c.payer_id,
            "member_id": c.member_id,
            "patient": [c.patient.last, c.patient.first],
            "facility": c.facility_code,
            "payee": {
                "name": b.name.last, "npi": b.npi, "tin": b.tin,
                "address": [b.address.line1, b.address.city, b.address.state, b.address.zip]
                if b.address else None,
            },
            "lines": [
                [ln.code, list(ln.modifiers), ln.charge_cents, str(ln.units),
                 (ln.service_from or c.service_from or received).isoformat(),
                 ln.control_number, ln.revenue_code]
                for ln in c.lines
            ],
            "due": (received + timedelta(days=delay)).isoformat(),
            "done": False,
        }  # fmt: skip

    def status_of(self, claim_number: str) -> tuple[str, str, int | None, str | None]:
        """What a 277 says of a claim: (category, status code, paid cents,
        payer claim number). Finalized once adjudicated (F1 paid, F2 denied;
        status 1: see the remittance advice), pending while queued (P1, 20),
        not found (A4, 35) when never received or rejected at the door."""
        found = None
        for q in self.state["claims"].values():
            if q["claim_number"] == claim_number:
                found = q
        if found is None:
            return "A4", "35", None, None
        if not found["done"]:
            return "P1", "20", None, found["icn"]
        paid = next((p for p in self.state["paid"].values() if p["icn"] == found["icn"]), None)
        if paid is None:
            return "F2", "1", 0, found["icn"]
        return "F1", "1", paid["adjudicated"]["paid"], found["icn"]

    # --- adjudication -------------------------------------------------------------------
    def due_remittances(self) -> list[Outgoing]:
        """The 835s for every queued claim whose day has come, one per payer
        and payee; and the corrections of earlier payments that are due."""
        today = self.today()
        groups: dict[tuple, list] = {}
        for key, q in sorted(self.state["claims"].items()):
            if q["done"] or date.fromisoformat(q["due"]) > today:
                continue
            q["done"] = True
            payee = (q["payer_id"], q["payee"]["npi"])
            groups.setdefault(payee, [])
            if q["replaces"]:
                groups[payee] += self._take_back(q["replaces"])
            if q["frequency"] != "8":
                groups[payee] += self._adjudicate(key, q, today)
        for key, p in sorted(self.state["paid"].items()):  # corrections due today
            if p.get("correct_on") and date.fromisoformat(p["correct_on"]) <= today:
                payee = (p["claim"]["payer_id"], p["claim"]["payee"]["npi"])
                groups.setdefault(payee, [])
                groups[payee] += self._correct(key, p, today)
        out = []
        for (payer_id, npi), claims in groups.items():
            if not claims:
                continue
            payee_info = next(
                q["payee"] for q in self.state["claims"].values() if q["payee"]["npi"] == npi
            )
            out.append(self._remittance(payer_id, payee_info, claims, today))
        return out

    def _take_back(self, icn: str) -> list:
        from pms_x12.payer_side import reversal

        paid = next((k for k, p in self.state["paid"].items() if p["icn"] == icn), None)
        if paid is None:
            return []
        p = self.state["paid"].pop(paid)
        return [reversal(_claim_from_json(p["adjudicated"]))]

    def _adjudicate(self, key: str, q: dict, today: date) -> list:
        from pms_x12 import payer_side as ps

        from pms_core.claimdata import PersonName

        member = q["member_id"].upper()
        patient = PersonName(q["patient"][0], q["patient"][1])
        secondary = q["responsibility"] not in ("P", "")
        r_member = roll(self.seed, "eligibility", member)
        inactive = r_member % 100 < INACTIVE_IN_100
        claim_denial = not secondary and roll(self.seed, "deny", q["claim_number"]) % 30 == 0
        lines, year = [], today.year
        deductible_key = f"{member}:{year}"
        if deductible_key not in self.state["deductible"]:
            total = (50_000, 100_000, 150_000, 300_000)[(r_member >> 8) % 4]
            self.state["deductible"][deductible_key] = total - total * ((r_member >> 16) % 5) // 4
        copay = (0, 2000, 2500, 3000, 4000)[(r_member >> 24) % 5]
        for n, (code, mods, charge, units, day, control, revenue) in enumerate(q["lines"], 1):
            adjustments, remarks = [], []
            allowed = charge * (55 + roll(self.seed, "fee", code) % 21) // 100
            if inactive or claim_denial:
                reason, remark = ("27", "N30") if inactive else ("50", "N115")
                adjustments, remarks, paid = [ps.Adjustment("CO", reason, charge)], [remark], 0
            elif not secondary and roll(self.seed, "bundle", q["claim_number"], n) % 25 == 0:
                adjustments, remarks, paid = [ps.Adjustment("CO", "97", charge)], ["M15"], 0
            elif secondary:
                left = self.state["lines"].get(str(control), 0) if control else 0
                paid = left * 80 // 100
                adjustments = [ps.Adjustment("CO", "23", charge - left)] if charge - left else []
                if left - paid:
                    adjustments.append(ps.Adjustment("PR", "2", left - paid))
            else:
                adjustments = (
                    [ps.Adjustment("CO", "45", charge - allowed)] if charge - allowed else []
                )
                rest = allowed
                take = min(rest, self.state["deductible"][deductible_key])
                self.state["deductible"][deductible_key] -= take
                patient_parts = []
                if take:
                    patient_parts.append(ps.Adjustment("PR", "1", take))
                rest -= take
                if copay and E_AND_M.fullmatch(code) and rest:
                    part = min(rest, copay)
                    patient_parts.append(ps.Adjustment("PR", "3", part))
                    rest -= part
                if rest * 20 // 100:
                    patient_parts.append(ps.Adjustment("PR", "2", rest * 20 // 100))
                    rest -= rest * 20 // 100
                adjustments += patient_parts
                paid = rest
                if control:
                    self.state["lines"][str(control)] = sum(a.amount_cents for a in patient_parts)
            lines.append(
                ps.AdjudicatedLine(
                    code, charge, paid, date.fromisoformat(day), units=Decimal(units),
                    modifiers=tuple(mods), control_number=control,
                    allowed_cents=None if (inactive or claim_denial or secondary) else allowed,
                    adjustments=tuple(adjustments), remarks=tuple(remarks),
                    revenue_code=revenue,
                )
            )  # fmt: skip
        denied = inactive or claim_denial
        claim = ps.AdjudicatedClaim(
            q["claim_number"], "4" if denied else ("2" if secondary else "1"),
            sum(ln.charge_cents for ln in lines), sum(ln.paid_cents for ln in lines), q["icn"],
            patient, member, facility_code=q["facility"], frequency=q["frequency"],
            lines=tuple(lines),
        )  # fmt: skip
        if not denied:
            record = {"icn": q["icn"], "adjudicated": _claim_to_json(claim), "claim": q}
            if roll(self.seed, "correct", q["claim_number"]) % 50 == 0 and claim.paid_cents:
                record["correct_on"] = (today + timedelta(days=4)).isoformat()
            self.state["paid"][key] = record
        return [claim]

    def _correct(self, key: str, p: dict, today: date) -> list:
        """Take a payment back and pay it again with $1 more per line paid (a
        fee schedule update): CLP02 22, then the corrected CLP."""
        from dataclasses import replace

        from pms_x12.payer_side import reversal

        p.pop("correct_on")
        before = _claim_from_json(p["adjudicated"])
        lines = []
        for ln in before.lines:
            if ln.paid_cents <= 0:
                lines.append(ln)
                continue
            adjustments = list(ln.adjustments)
            co = next((i for i, a in enumerate(adjustments) if a.group == "CO"), None)
            if co is None or adjustments[co].amount_cents < 100:
                lines.append(ln)
                continue
            adjustments[co] = replace(
                adjustments[co], amount_cents=adjustments[co].amount_cents - 100
            )
            lines.append(replace(ln, paid_cents=ln.paid_cents + 100, adjustments=tuple(adjustments),
                                 allowed_cents=(ln.allowed_cents or 0) + 100))  # fmt: skip
        after = replace(before, paid_cents=sum(ln.paid_cents for ln in lines), lines=tuple(lines))
        p["adjudicated"] = _claim_to_json(after)
        return [reversal(before), after]

    def _remittance(self, payer_id: str, payee: dict, claims: list, today: date) -> Outgoing:
        from pms_x12 import payer_side as ps

        from pms_core.claimdata import Address, PersonName, ProviderView

        address = Address(*payee["address"]) if payee["address"] else None
        provider = ProviderView(PersonName(payee["name"]), payee["npi"], tin=payee["tin"],
                                address=address)  # fmt: skip
        # a check number of its own for every payment (a payer never reuses one)
        self.state["payments"] = self.state.get("payments", 0) + 1
        trace = f"{self.state['payments']:04d}{roll(self.seed, 'trace', payer_id) % 10**5:05d}"
        plbs = []
        paid = sum(c.paid_cents for c in claims)
        if paid > 0 and roll(self.seed, "interest", trace) % 5 == 0:
            plbs.append(ps.ProviderLevelAdjustment("L6", -(100 + paid % 300), trace))
        payment = paid - sum(p.amount_cents for p in plbs)
        remittance = ps.Remittance(
            self._payer(payer_id), provider, payment, "CHK" if payment > 0 else "NON", today,
            trace, tuple(claims), tuple(plbs), production_date=today,
        )  # fmt: skip
        text = ps.write_835(self._envelope("PMS"), remittance)
        return Outgoing(f"835-{today:%Y%m%d}-{trace}.x12", text.encode())


def _claim_to_json(c) -> dict:
    def adj(a):
        return [a.group, a.reason, a.amount_cents]

    return {
        "claim_number": c.claim_number, "status": c.status, "charge": c.charge_cents,
        "paid": c.paid_cents, "icn": c.payer_claim_number,
        "patient": [c.patient.last, c.patient.first], "member": c.member_id,
        "facility": c.facility_code, "frequency": c.frequency,
        "lines": [
            [ln.code, ln.charge_cents, ln.paid_cents, ln.service_from.isoformat(), str(ln.units),
             list(ln.modifiers), ln.control_number, ln.allowed_cents,
             [adj(a) for a in ln.adjustments], list(ln.remarks), ln.revenue_code]
            for ln in c.lines
        ],
    }  # fmt: skip


def _claim_from_json(d: dict):
    from pms_x12 import payer_side as ps

    from pms_core.claimdata import PersonName

    lines = tuple(
        ps.AdjudicatedLine(
            code, charge, paid, date.fromisoformat(day), units=Decimal(units),
            modifiers=tuple(mods), control_number=control, allowed_cents=allowed,
            adjustments=tuple(ps.Adjustment(*a) for a in adjs), remarks=tuple(remarks),
            revenue_code=revenue,
        )
        for code, charge, paid, day, units, mods, control, allowed, adjs, remarks, revenue
        in d["lines"]
    )  # fmt: skip
    return ps.AdjudicatedClaim(
        d["claim_number"], d["status"], d["charge"], d["paid"], d["icn"],
        PersonName(*d["patient"]), d["member"], facility_code=d["facility"],
        frequency=d["frequency"], lines=lines,
    )  # fmt: skip
