"""Eligibility, 005010X279A1: the 270 and 271 writers and readers.

pyx12 has no working 5010 map for 270/271, so all are ours. `write_270`
builds one interchange with one inquiry; `read_271` streams a 271 (any
delimiters, several envelopes; the envelope is checked by `X12Stream`) into
one `EligibilityAnswer` per subscriber or dependent: EB segments in words,
coverage dates, and AAA rejections with their reason and follow-up action.
`read_270` reads an inquiry back (for tests, and for the sandbox payer);
`write_271` writes the payer's answers to a 270 so that `read_271` reads
them back as they were (the sandbox payer's side).

Messages name segment positions and elements (or an answer's number), never
values.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from pms_core.edi import X12Error
from pms_core.eligdata import Benefit, EligibilityAnswer, EligibilityInquiry, Person, Rejection
from pms_x12.elements import CODE, cents, decimal, fail, parse_date, required
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


# --- the 270, and what the writers share ------------------------------------------
def clean_text(value: str, limit: int) -> str:
    """Free text fit for an element: upper case ASCII (accents dropped: "Ñ"
    is "N", as X12's basic character set has no other), no delimiters."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    text = "".join(ch for ch in ascii_text.upper() if ch not in "*~:^>\\|\n\r")
    return " ".join(text.split())[:limit]


def amount_text(value: int) -> str:
    """Integer cents as an X12 decimal amount, exactly: 12550 is "125.50",
    14000 is "140"."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole}" + (f".{part:02d}" if part else "")


def whole_cents(value: object) -> bool:
    """Whether `value` is an amount the writers take: int cents, not negative."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def dmg(person: Person) -> list[str]:
    """The person's DMG (date of birth and sex), when the birth date is known."""
    if person.birth_date is None:
        return []
    return [f"DMG*D8*{person.birth_date:%Y%m%d}" + (f"*{person.sex}" if person.sex else "")]


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
        return [f"{name}****MI*{t(p.member_id or '', 80)}" if with_id else name, *dmg(p)]

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


# --- the 271 -----------------------------------------------------------------------------
_PERIOD_CODES = {words: code for code, words in PERIODS.items()}
_VALID_REQUEST = frozenset(("42", "80"))  # AAA01 Y: the request was fine, answering was not


def write_271(
    answers: Sequence[EligibilityAnswer],
    *,
    inquiries: Sequence[EligibilityInquiry],
    sender_id: str,
    receiver_id: str,
    control: int,
    created: datetime,
    production: bool = True,
) -> str:
    """One interchange (ISA13/GS06 `control`) with one 271 answering the
    inquiries of one 270: `answers[i]` answers `inquiries[i]` (as `read_270`
    returns them) and `read_271` reads the file back as these answers.

    Names, birth dates, the payer and the provider come from the inquiry; the
    member id (NM1*IL) and payer id (NM1*PR) from the answer, or from the
    inquiry where the answer has None. Each answer gets its own subscriber
    loop (and dependent loop when `answer.dependent`) with TRN*2 echoing the
    inquiry's trace and originator, its AAA rejections, DMG, DTP*346/347
    coverage dates, then one EB per benefit followed by its MSGs. Payer- and
    provider-level rejections go in the payer's (2100A) or provider's (2100B)
    loop, which consecutive answers share when payer, provider and those
    rejections are the same; the person loops still follow so that every
    answer echoes its trace. AAA01 is Y for reasons 42 and 80 (a valid
    request the payer cannot answer now), N otherwise. Free text is upper
    case without delimiter characters (as in the 270).

    Raises ValueError, naming the answer by its number, for an answer that
    does not echo its inquiry's trace, is about a dependent nobody asked
    about, has no member id, a rejection in another person's loop or with a
    code this module does not know, a benefit whose codes, period, amount
    (whole cents, not negative) or percent (a Decimal from 0 to 1) are not
    valid, `active` or `plan_name` that its benefits do not say (the reader
    takes them from the EB segments), or coverage dates out of order.
    """
    if not answers:
        raise ValueError("a 271 needs at least one answer")
    if len(answers) != len(inquiries):
        raise ValueError(f"{len(answers)} answers for {len(inquiries)} inquiries")
    for n, (answer, inquiry) in enumerate(zip(answers, inquiries, strict=True), 1):
        _check_answer(f"answer {n}", answer, inquiry)

    t = clean_text
    body = [f"BHT*0022*11*{t(inquiries[0].trace, 50)}*{created:%Y%m%d}*{created:%H%M}"]
    hl = payer_hl = provider_hl = 0
    payer_key = provider_key = None
    for answer, inquiry in zip(answers, inquiries, strict=True):
        payer_id = answer.payer_id or inquiry.payer_id
        key = (inquiry.payer_name, payer_id, _rejected(answer, "payer"))
        if key != payer_key:
            hl, payer_key, provider_key = hl + 1, key, None
            payer_hl = hl
            body += [f"HL*{hl}**20*1",
                     f"NM1*PR*2*{t(inquiry.payer_name, 60)}*****PI*{t(payer_id, 80)}",
                     *_aaa(answer, "payer")]  # fmt: skip
        key = (inquiry.provider_name, inquiry.provider_npi, _rejected(answer, "provider"))
        if key != provider_key:
            hl, provider_key = hl + 1, key
            provider_hl = hl
            body += [f"HL*{hl}*{payer_hl}*21*1",
                     f"NM1*1P*2*{t(inquiry.provider_name, 60)}*****XX*{t(inquiry.provider_npi, 80)}",
                     *_aaa(answer, "provider")]  # fmt: skip
        sub, dep = inquiry.subscriber, inquiry.dependent
        hl += 1
        body.append(f"HL*{hl}*{provider_hl}*22*{1 if answer.dependent else 0}")
        member = t(answer.member_id or sub.member_id or "", 80)
        name = f"NM1*IL*1*{t(sub.last_name, 60)}*{t(sub.first_name, 35)}****MI*{member}"
        person, level = sub, "subscriber"
        if answer.dependent and dep is not None:
            body += [name, *dmg(sub), f"HL*{hl + 1}*{hl}*23*0"]
            hl += 1
            name = f"NM1*03*1*{t(dep.last_name, 60)}*{t(dep.first_name, 35)}"
            person, level = dep, "dependent"
        trn = f"TRN*2*{t(inquiry.trace, 50)}" + (
            f"*{t(inquiry.originator, 10)}" if t(inquiry.originator, 10) else ""
        )
        body += [trn, name, *_aaa(answer, level), *dmg(person)]
        if answer.coverage_from is not None:
            body.append(f"DTP*346*D8*{answer.coverage_from:%Y%m%d}")
        if answer.coverage_to is not None:
            body.append(f"DTP*347*D8*{answer.coverage_to:%Y%m%d}")
        for b in answer.benefits:
            body += [_eb(b), *(f"MSG*{t(m, 264)}" for m in b.messages)]
    return interchange(
        "271", "HB", "005010X279A1", body, sender_id=sender_id, receiver_id=receiver_id,
        control=control, created=created, production=production,
    )  # fmt: skip


def _rejected(answer: EligibilityAnswer, loop: str) -> tuple[tuple[str, str], ...]:
    return tuple((r.code, r.action_code) for r in answer.rejections if r.loop == loop)


def _aaa(answer: EligibilityAnswer, loop: str) -> list[str]:
    return [f"AAA*{'Y' if code in _VALID_REQUEST else 'N'}**{code}*{action}"
            for code, action in _rejected(answer, loop)]  # fmt: skip


def _eb(b: Benefit) -> str:
    elements = [
        b.code,
        b.coverage_level or "",
        "^".join(b.service_types),
        "",
        clean_text(b.plan_name or "", 50),
        _PERIOD_CODES[b.period] if b.period else "",
        amount_text(b.amount_cents) if b.amount_cents is not None else "",
        format(b.percent, "f") if b.percent is not None else "",
        "", "", "",
        {True: "Y", False: "N", None: ""}[b.in_network],
    ]  # fmt: skip
    return "*".join(["EB", *elements]).rstrip("*")


def _says_active(benefits: Sequence[Benefit]) -> bool | None:
    """What `read_271` makes of these EBs: active if any says so, else inactive
    if any says that, else neither."""
    codes = {b.code for b in benefits}
    return True if codes & ACTIVE else False if codes & INACTIVE else None


def _check_answer(where: str, answer: EligibilityAnswer, inquiry: EligibilityInquiry) -> None:
    if not answer.trace:
        raise ValueError(f"{where} has no trace (TRN02): it must echo its inquiry's")
    if answer.trace != inquiry.trace:
        raise ValueError(f"{where} does not echo its inquiry's trace (TRN02)")
    if answer.dependent and inquiry.dependent is None:
        raise ValueError(f"{where} is about a dependent, but its inquiry asks about none")
    if not clean_text(answer.member_id or inquiry.subscriber.member_id or "", 80):
        raise ValueError(f"{where} has no member id (NM109), nor has its inquiry")
    level = "dependent" if answer.dependent else "subscriber"
    for m, r in enumerate(answer.rejections, 1):
        if r.loop not in ("payer", "provider", level):
            raise ValueError(f"{where}, rejection {m}: its loop is not payer, provider or {level}")
        if r.code not in REJECT_REASONS:
            raise ValueError(f"{where}, rejection {m}: AAA03 is not a reject reason code")
        if r.action_code not in FOLLOW_UP:
            raise ValueError(f"{where}, rejection {m}: AAA04 is not a follow-up action code")
    for m, b in enumerate(answer.benefits, 1):
        _check_benefit(f"{where}, benefit {m}", b)
    active = _says_active(answer.benefits)
    if answer.active != active:
        raise ValueError(
            f"{where}: active is {answer.active} but its benefits say {active} "
            "(EB01 1-5 active coverage, 6-8 inactive)"
        )
    plans = [b.plan_name for b in answer.benefits if b.code in ACTIVE and b.plan_name]
    if answer.plan_name and (
        not plans or clean_text(answer.plan_name, 50) != clean_text(plans[0], 50)
    ):
        raise ValueError(f"{where}: plan_name is not the plan (EB05) of its first active benefit")
    if answer.coverage_from and answer.coverage_to and answer.coverage_from > answer.coverage_to:
        raise ValueError(f"{where}: coverage_from is after coverage_to")


def _check_benefit(where: str, b: Benefit) -> None:
    if b.code not in ELIGIBILITY:
        raise ValueError(f"{where}: EB01 is not an eligibility or benefit information code")
    if b.coverage_level is not None and not CODE.fullmatch(b.coverage_level):
        raise ValueError(f"{where}: EB02 is not a coverage level code")
    if not all(CODE.fullmatch(s) for s in b.service_types):
        raise ValueError(f"{where}: EB03 holds something that is not a service type code")
    if b.plan_name is not None and not clean_text(b.plan_name, 50):
        raise ValueError(f"{where}: EB05 (plan name) is empty")
    if b.period is not None and b.period not in _PERIOD_CODES:
        raise ValueError(f"{where}: EB06 is not a period this module knows (see PERIODS)")
    if b.amount_cents is not None and not whole_cents(b.amount_cents):
        raise ValueError(f"{where}: EB07 must be whole cents (an int), not negative")
    percent = b.percent
    if percent is not None and not (
        isinstance(percent, Decimal) and percent.is_finite() and 0 <= percent <= 1
    ):
        raise ValueError(f"{where}: EB08 must be a Decimal fraction from 0 to 1")
    if b.in_network not in (True, False, None):
        raise ValueError(f"{where}: EB12 (in network) must be True, False or None")
    if not all(clean_text(m, 264) for m in b.messages):
        raise ValueError(f"{where}: a message (MSG01) is empty")


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
    """Nothing said about this person (rejections of the payer's or provider's
    loop, which every person under them carries, do not count)."""
    own = [r for r in answer.rejections if r.loop in ("subscriber", "dependent")]
    return not answer.benefits and not own and answer.active is None


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
            if self.level == "payer":  # another payer: its rejections are its own
                self.pending = []
            elif self.level == "provider":
                self.pending = [r for r in self.pending if r.loop == "payer"]
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
