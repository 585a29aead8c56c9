"""Eligibility, 005010X279A1: the 270 writer and the 271 reader.

pyx12 has no working 5010 map for 270/271, so both are ours. `write_270`
builds one interchange with one inquiry; `read_271` streams a 271 (any
delimiters, several envelopes; the envelope is checked by `X12Stream`) into
one `EligibilityAnswer` per subscriber or dependent: EB segments in words,
coverage dates, and AAA rejections with their reason and follow-up action.
`read_270` reads an inquiry back (for tests and for checking what was sent).

Messages name segment positions and elements, never values.
"""

from __future__ import annotations

from datetime import date, datetime

from pms_core.edi import X12Error
from pms_core.eligdata import Benefit, EligibilityAnswer, EligibilityInquiry, Person, Rejection
from pms_x12.elements import cents, decimal, fail, parse_date, required
from pms_x12.segments import VERSIONS, EnvelopeError, Segment, X12Stream

ELIGIBILITY = {
    "1": "active coverage",
    "2": "active, full risk capitation",
    "3": "active, services capitated",
    "4": "active, services capitated to the primary care physician",
    "5": "active, pending investigation",
    "6": "inactive",
    "7": "inactive, pending eligibility update",
    "8": "inactive, pending investigation",
    "A": "coinsurance",
    "B": "copay",
    "C": "deductible",
    "CB": "coverage basis",
    "D": "benefit description",
    "E": "exclusions",
    "F": "limitations",
    "G": "out of pocket (stop loss)",
    "H": "unlimited",
    "I": "non-covered",
    "J": "cost containment",
    "L": "primary care provider",
    "M": "pre-existing condition",
    "MC": "managed care coordinator",
    "N": "services restricted to the following provider",
    "O": "not deemed a medical necessity",
    "P": "benefit disclaimer",
    "Q": "second surgical opinion required",
    "R": "other or additional payer",
    "S": "prior years' history",
    "U": "contact the following entity for eligibility or benefits",
    "V": "cannot process",
    "W": "other source of data",
    "X": "health care facility",
    "Y": "spend down",
}
ACTIVE, INACTIVE = frozenset("12345"), frozenset("678")
PERIODS = {
    "6": "hour", "7": "day", "21": "years", "22": "service year", "23": "calendar year",
    "24": "year to date", "25": "contract", "26": "episode", "27": "visit", "28": "outlier",
    "29": "remaining", "30": "exceeded", "31": "not exceeded", "32": "lifetime",
    "33": "lifetime remaining", "34": "month", "35": "week", "36": "admission",
}  # fmt: skip
SERVICE_TYPES = {
    "1": "medical care", "2": "surgical", "4": "diagnostic x-ray", "5": "diagnostic lab",
    "12": "durable medical equipment", "30": "health benefit plan coverage",
    "33": "chiropractic", "35": "dental care", "42": "home health care",
    "45": "hospice", "47": "hospital", "48": "hospital inpatient",
    "50": "hospital outpatient", "51": "hospital emergency, accident",
    "52": "hospital emergency, medical", "53": "hospital ambulatory surgical",
    "80": "immunizations", "81": "routine physical", "86": "emergency services",
    "88": "pharmacy", "98": "professional (physician) visit, office",
    "A4": "psychiatric", "AD": "occupational therapy", "AE": "physical medicine",
    "AL": "vision (optometry)", "BY": "physician visit, office: well",
    "BZ": "physician visit, office: sick", "MH": "mental health", "PT": "physical therapy",
    "UC": "urgent care",
}  # fmt: skip
REJECT_REASONS = {
    "04": "authorized quantity exceeded", "15": "required application data missing",
    "33": "input errors", "35": "out of network", "41": "authorization or access restrictions",
    "42": "unable to respond at current time", "43": "invalid or missing provider identification",
    "45": "invalid or missing provider specialty", "47": "invalid or missing provider state",
    "48": "invalid or missing referring provider identification",
    "49": "provider is not the primary care physician", "50": "provider ineligible for inquiries",
    "51": "provider not on file", "52": "service dates not within provider plan enrollment",
    "56": "inappropriate date", "57": "invalid or missing date(s) of service",
    "58": "invalid or missing date of birth", "60": "date of birth follows date(s) of service",
    "61": "date of death precedes date(s) of service",
    "62": "date of service not within allowable inquiry period",
    "63": "date of service in the future", "64": "invalid or missing patient id",
    "65": "invalid or missing patient name", "66": "invalid or missing patient gender",
    "67": "patient not found", "68": "duplicate patient id number",
    "71": "date of birth does not match the payer's records",
    "72": "invalid or missing subscriber/insured id",
    "73": "invalid or missing subscriber/insured name",
    "74": "invalid or missing subscriber/insured gender", "75": "subscriber/insured not found",
    "76": "duplicate subscriber/insured id number",
    "78": "subscriber/insured not in the group or plan identified",
    "79": "invalid participant identification", "80": "no response received, transaction terminated",
    "97": "invalid or missing provider address", "T4": "payer name or identifier missing",
}  # fmt: skip
FOLLOW_UP = {
    "C": "correct and resubmit",
    "N": "resubmission not allowed",
    "P": "resubmit the original inquiry",
    "R": "resubmission allowed",
    "S": "do not resubmit; the payer asked a third party",
    "W": "wait 30 days and resubmit",
    "X": "wait 10 days and resubmit",
    "Y": "do not resubmit; the payer will answer again shortly",
}
_LEVELS = {"20": "payer", "21": "provider", "22": "subscriber", "23": "dependent"}


# --- the 270 -----------------------------------------------------------------------
def clean_text(value: str, limit: int) -> str:
    """Free text fit for an element: upper case, no delimiter characters."""
    text = "".join(ch for ch in value.upper() if ch not in "*~:^>\\|\n\r")
    return " ".join(text.split())[:limit]


def write_270(
    inquiry: EligibilityInquiry,
    *,
    sender_id: str,
    receiver_id: str,
    control: int,
    created: datetime,
    production: bool = True,
) -> str:
    """One interchange (ISA13/GS06 `control`) with one 270 about one person."""
    t = clean_text
    ymd, hm = created.strftime("%Y%m%d"), created.strftime("%H%M")
    sub, dep = inquiry.subscriber, inquiry.dependent
    types = "^".join(inquiry.service_types)

    def person(p: Person, entity: str, with_id: bool) -> list[str]:
        name = f"NM1*{entity}*1*{t(p.last_name, 60)}*{t(p.first_name, 35)}"
        out = [f"{name}****MI*{t(p.member_id or '', 80)}" if with_id else name]
        if p.birth_date is not None:
            out.append(f"DMG*D8*{p.birth_date:%Y%m%d}" + (f"*{p.sex}" if p.sex else ""))
        return out

    body = [
        f"BHT*0022*13*{t(inquiry.trace, 50)}*{ymd}*{hm}",
        "HL*1**20*1",
        f"NM1*PR*2*{t(inquiry.payer_name, 60)}*****PI*{t(inquiry.payer_id, 80)}",
        "HL*2*1*21*1",
        f"NM1*1P*2*{t(inquiry.provider_name, 60)}*****XX*{inquiry.provider_npi}",
        f"HL*3*2*22*{1 if dep else 0}",
    ]
    asked = [
        f"TRN*1*{t(inquiry.trace, 50)}*{t(inquiry.originator, 10)}",
        f"DTP*291*D8*{inquiry.service_date:%Y%m%d}",
        f"EQ*{types}",
    ]
    if dep is None:
        body += [asked[0], *person(sub, "IL", True), *asked[1:]]
    else:
        body += person(sub, "IL", True)
        body += ["HL*4*3*23*0", asked[0], *person(dep, "03", False), *asked[1:]]
    return interchange(
        "270", "HS", "005010X279A1", body, sender_id=sender_id, receiver_id=receiver_id,
        control=control, created=created, production=production,
    )  # fmt: skip


def interchange(
    set_id: str, functional_id: str, version: str, body: list[str], *, sender_id: str,
    receiver_id: str, control: int, created: datetime, production: bool,
) -> str:  # fmt: skip
    """One interchange (ISA13 = GS06 = `control`) holding one transaction set
    (ST02 0001) of `body`'s segments, "~"-terminated, ":" for components and
    "^" for repetitions."""
    st = [f"ST*{set_id}*0001*{version}", *body]
    st.append(f"SE*{len(st) + 1}*0001")
    ymd, hm = created.strftime("%Y%m%d"), created.strftime("%H%M")
    isa = (
        f"ISA*00*          *00*          *ZZ*{sender_id[:15]:<15}*ZZ*{receiver_id[:15]:<15}"
        f"*{created:%y%m%d}*{hm}*^*00501*{control:09d}*0*{'P' if production else 'T'}*:"
    )
    return "~".join(
        [isa, f"GS*{functional_id}*{sender_id}*{receiver_id}*{ymd}*{hm}*{control}*X*{version}",
         *st, f"GE*1*{control}", f"IEA*1*{control:09d}", ""]
    )  # fmt: skip


# --- reading ----------------------------------------------------------------------------
def date_range(seg: Segment) -> tuple[date, date]:
    fmt, value = seg.get(2).strip(), required(seg, 3)
    if fmt == "RD8":
        first, _, last = value.partition("-")
        return parse_date(seg, 3, first), parse_date(seg, 3, last)
    day = parse_date(seg, 3, value)
    return day, day


def _check(kind: str, stream: X12Stream, seg: Segment) -> None:
    if seg.id == "GS":
        wanted = {"270": "HS", "271": "HB"}[kind]
        if seg.get(1).strip() != wanted or seg.get(8).strip() not in VERSIONS[kind]:
            raise EnvelopeError(
                f"this functional group is not a {kind} of version {VERSIONS[kind][0]}",
                position=seg.position, segment="GS", element="01",
            )  # fmt: skip
    elif seg.id == "ST" and seg.get(1).strip() != kind:
        raise EnvelopeError(
            f"ST01 is not {kind}", position=seg.position, segment="ST", element="01"
        )


def _empty(answer: EligibilityAnswer) -> bool:
    return not answer.benefits and not answer.rejections and answer.active is None


class _Reader271:
    def __init__(self) -> None:
        self.answers: list[EligibilityAnswer] = []
        self.level: str | None = None  # payer, provider, subscriber, dependent
        self.payer_id: str | None = None
        self.subscriber_id: str | None = None
        self.current: EligibilityAnswer | None = None
        self.pending: list[Rejection] = []  # payer/provider-level rejections
        self.benefit: dict | None = None

    def _answer(self, dependent: bool) -> EligibilityAnswer:
        self._close_benefit()
        last = self.answers[-1] if self.answers else None
        if dependent and last is not None and not last.dependent and _empty(last):
            self.answers.pop()  # the subscriber's loop only led to the dependent asked about
        answer = EligibilityAnswer(None, self.payer_id, self.subscriber_id, dependent)
        self.answers.append(answer)
        self.current = answer
        return answer

    def _close_benefit(self) -> None:
        if self.benefit is not None and self.current is not None:
            self.current.benefits.append(Benefit(**self.benefit))
        self.benefit = None

    def segment(self, seg: Segment) -> None:
        sid = seg.id
        if sid == "HL":
            self._close_benefit()
            self.level = _LEVELS.get(seg.get(3).strip())
            if self.level is None:
                raise fail(seg, "HL03 is not a level this reader knows (20, 21, 22, 23)", 3)
            if self.level in ("subscriber", "dependent"):
                answer = self._answer(self.level == "dependent")
                answer.rejections.extend(self.pending)
            return
        if sid == "NM1":
            entity, ident = seg.get(1).strip(), seg.get(9).strip() or None
            if entity == "PR":
                self.payer_id = ident
            elif entity == "IL":
                self.subscriber_id = ident
                if self.current is not None:
                    self.current.member_id = ident
            return
        if sid == "TRN" and self.current is not None:
            if seg.get(1).strip() == "2":  # the payer echoes our trace as TRN01 2
                self.current.trace = seg.get(2).strip() or None
            return
        if sid == "AAA":
            code, action = seg.get(3).strip(), seg.get(4).strip()
            rejection = Rejection(
                self.level or "payer", code, REJECT_REASONS.get(code, f"reason {code}"),
                action, FOLLOW_UP.get(action, f"action {action}"), seg.position,
            )  # fmt: skip
            if self.current is not None and self.level in ("subscriber", "dependent"):
                self.current.rejections.append(rejection)
                if self.benefit is None:
                    self.current.active = None
            else:
                self.pending.append(rejection)
            return
        if self.current is None:
            return
        if sid == "DTP" and self.benefit is None:
            first, last = date_range(seg)
            qualifier = seg.get(1).strip()
            if qualifier in ("346", "356", "291", "307"):
                self.current.coverage_from = first
                if first != last:
                    self.current.coverage_to = last
            elif qualifier in ("347", "357"):
                self.current.coverage_to = last
        elif sid == "EB":
            self._close_benefit()
            code = required(seg, 1)
            if code in ACTIVE:
                self.current.active = True
            elif code in INACTIVE and self.current.active is None:
                self.current.active = False
            percent = decimal(seg, 8)
            network = seg.get(12).strip()
            self.benefit = dict(
                code=code,
                kind=ELIGIBILITY.get(code, f"benefit {code}"),
                service_types=tuple(s for s in seg.repetitions(3) if s),
                coverage_level=seg.get(2).strip() or None,
                plan_name=seg.get(5).strip() or None,
                period=PERIODS.get(seg.get(6).strip()) if seg.get(6).strip() else None,
                amount_cents=cents(seg, 7),
                percent=percent,
                in_network={"Y": True, "N": False}.get(network),
                messages=(),
            )
            if code in ACTIVE and self.benefit["plan_name"] and not self.current.plan_name:
                self.current.plan_name = self.benefit["plan_name"]
        elif sid == "MSG" and self.benefit is not None:
            self.benefit["messages"] = (*self.benefit["messages"], seg.get(1).strip())
        elif sid == "LS":
            self._close_benefit()

    def finish(self) -> list[EligibilityAnswer]:
        self._close_benefit()
        if not self.answers and self.pending:  # rejected before any person
            answer = EligibilityAnswer(None, self.payer_id, None, False)
            answer.rejections.extend(self.pending)
            self.answers.append(answer)
        return self.answers


def read_271(data: bytes | str) -> list[EligibilityAnswer]:
    """Every answer in a 271 file (see the module docstring)."""
    stream = X12Stream(data)
    reader: _Reader271 | None = None
    answers: list[EligibilityAnswer] = []
    for seg in stream:
        if seg.id in ("GS", "ST"):
            _check("271", stream, seg)
            if seg.id == "ST":
                reader = _Reader271()
        elif seg.id == "SE" and reader is not None:
            answers += reader.finish()
            reader = None
        elif reader is not None and seg.id not in ("BHT", "GE", "IEA", "ISA"):
            reader.segment(seg)
    if not answers:
        raise X12Error("the file holds no 271 transaction set")
    return answers


def read_270(data: bytes | str) -> list[EligibilityInquiry]:
    """The inquiries of a 270 file, as `EligibilityInquiry` (payer, provider,
    subscriber or dependent, date and service types)."""
    stream = X12Stream(data)
    found: list[EligibilityInquiry] = []
    parts: dict = {}
    people: dict[str, Person] = {}
    level = None

    def flush() -> None:
        if "eq" in parts and "subscriber" in people:
            found.append(
                EligibilityInquiry(
                    trace=parts.get("trace", ""), originator=parts.get("originator", ""),
                    payer_name=parts.get("payer_name", ""), payer_id=parts.get("payer_id", ""),
                    provider_name=parts.get("provider_name", ""),
                    provider_npi=parts.get("provider_id", ""), subscriber=people["subscriber"],
                    service_date=parts.get("date") or date.min,
                    service_types=parts["eq"], dependent=people.get("dependent"),
                )
            )  # fmt: skip
            parts.pop("eq")

    for seg in stream:
        sid = seg.id
        if sid in ("GS", "ST"):
            _check("270", stream, seg)
        elif sid == "HL":
            flush()
            level = _LEVELS.get(seg.get(3).strip())
        elif sid == "NM1":
            entity = seg.get(1).strip()
            if entity == "PR":
                parts["payer_name"], parts["payer_id"] = seg.get(3).strip(), seg.get(9).strip()
            elif entity == "1P":
                parts["provider_name"] = seg.get(3).strip()
                parts["provider_id"] = seg.get(9).strip()
            elif entity in ("IL", "03"):
                people[level] = Person(seg.get(3).strip(), seg.get(4).strip(),
                                       member_id=seg.get(9).strip() or None)  # fmt: skip
        elif sid == "DMG" and level in people:
            p = people[level]
            people[level] = Person(p.last_name, p.first_name,
                                   parse_date(seg, 2, required(seg, 2)),
                                   seg.get(3).strip() or None, p.member_id)  # fmt: skip
        elif sid == "TRN":
            parts["trace"], parts["originator"] = seg.get(2).strip(), seg.get(3).strip()
        elif sid == "DTP" and seg.get(1).strip() == "291":
            parts["date"] = date_range(seg)[0]
        elif sid == "EQ":
            parts["eq"] = tuple(s for s in seg.repetitions(1) if s)
        elif sid == "SE":
            flush()
            people, level = {}, None
    return found
