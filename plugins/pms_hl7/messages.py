"""HL7 v2 messages in and ACKs out: what pms reads from ADT^A04/A08/A40,
SIU^S12-S15 and DFT^P03, as the plain data `pms_core.services.interface`
applies.

`interpret(text)` never raises: a message it cannot take becomes a refusal
(ACK AR) with the reason, naming the segment and field, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pms_core.services import interface
from pms_core.services.interface import ChargeLine, PatientData, Refused, Visit

SUPPORTED = {
    ("ADT", "A04"),
    ("ADT", "A08"),
    ("ADT", "A40"),
    ("SIU", "S12"),
    ("SIU", "S13"),
    ("SIU", "S14"),
    ("SIU", "S15"),
    ("DFT", "P03"),
}
_SEX = {"F": "F", "M": "M", "U": "U", "O": "U", "A": "U", "N": "U"}
_RELATIONSHIP = {"SEL": "self", "SPO": "spouse", "CHD": "child", "DEP": "child"}
_SIU_STATUS = {"S12": "booked", "S13": "booked", "S14": None, "S15": "cancelled"}
_UNSAFE = re.compile(r"[|^~\\&\r\n]")


@dataclass
class Interpreted:
    message_type: str  # "ADT^A08"
    control_id: str
    handler: Callable | None  # (ctx) -> patient id; None when refused
    refused: str = ""
    sender: tuple[str, str] = ("", "")  # MSH-3, MSH-4
    receiver: tuple[str, str] = ("", "")  # MSH-5, MSH-6
    version: str = "2.5.1"


class Message:
    """An HL7 v2 message split into segments and fields by its own separators
    (MSH-1 and MSH-2). Values are read with `field(message, "PID.F5.R1.C2")`,
    the accessor paths of the `hl7` package; escape sequences are decoded."""

    def __init__(self, text: str) -> None:
        lines = [line for line in text.split("\r") if line]
        first = lines[0] if lines else ""
        if not first.startswith("MSH") or len(first) < 8:
            raise ValueError("no MSH segment with its separators")
        self.fs = first[3]
        self.cs, self.rs, self.es, self.ss = first[4], first[5], first[6], first[7]
        if len({self.fs, self.cs, self.rs, self.es, self.ss}) != 5:
            raise ValueError("MSH-1 and MSH-2 do not name five distinct separators")
        self.segments: dict[str, list[list[str]]] = {}
        for line in lines:
            fields = line.split(self.fs)
            if fields[0] == "MSH":  # MSH-1 is the separator itself, MSH-2 the encoding
                fields = ["MSH", self.fs, *fields[1:]]
            self.segments.setdefault(fields[0], []).append(fields)

    def count(self, name: str) -> int:
        return len(self.segments.get(name, ()))

    def value(self, name: str, n: int, f: int, r: int, c: int) -> str:
        """Field `f`, repetition `r`, component `c` of the n-th `name` segment."""
        try:
            text = self.segments[name][n - 1][f]
        except (KeyError, IndexError):
            return ""
        if name == "MSH" and f <= 2:
            return text
        parts = text.split(self.rs)
        text = parts[r - 1] if r <= len(parts) else ""
        parts = text.split(self.cs)
        return self._unescape(parts[c - 1] if c <= len(parts) else "")

    def _unescape(self, text: str) -> str:
        if self.es not in text:
            return text
        e = self.es
        for code, char in (("F", self.fs), ("S", self.cs), ("R", self.rs), ("T", self.ss)):
            text = text.replace(f"{e}{code}{e}", char)
        return text.replace(f"{e}E{e}", e)


@lru_cache(maxsize=512)
def _path(path: str) -> tuple[str, int, int, int, int]:
    parts = path.split(".")
    name, number = parts[0][:3], int(parts[0][3:] or 1)
    numbers = [int(p[1:]) for p in parts[1:]] + [1, 1]
    return name, number, numbers[0], numbers[1], numbers[2]


def field(message: Message, path: str) -> str:
    """The text at an accessor path ("PID.F5.R1.C2", "IN12.F3"; a missing
    repetition or component is the first), "" when absent."""
    return message.value(*_path(path)).strip()


def _hl7_date(text: str, segment: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        raise Refused(f"{segment} is not a date (YYYYMMDD)") from None


def _hl7_datetime(text: str, segment: str) -> datetime | None:
    if not text:
        return None
    digits = re.match(r"\d+", text)
    value = digits.group(0) if digits else ""
    for fmt, size in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12)):
        if len(value) >= size:
            try:
                return datetime.strptime(value[:size], fmt)
            except ValueError:
                break
    raise Refused(f"{segment} is not a date and time (YYYYMMDDHHMM)")


def interpret(text: str) -> Interpreted:
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x0b\x1c")
    if not text.startswith("MSH"):
        return Interpreted("", "", None, "the message does not start with an MSH segment")
    try:
        message = Message(text)
    except ValueError:
        return Interpreted("", "", None, "the message cannot be parsed (MSH separators)")
    kind, event = field(message, "MSH.F9.R1.C1").upper(), field(message, "MSH.F9.R1.C2").upper()
    base = Interpreted(
        message_type=f"{kind}^{event}",
        control_id=field(message, "MSH.F10"),
        handler=None,
        sender=(field(message, "MSH.F3"), field(message, "MSH.F4")),
        receiver=(field(message, "MSH.F5"), field(message, "MSH.F6")),
        version=field(message, "MSH.F12") or "2.5.1",
    )
    if not base.control_id:
        base.refused = "MSH-10 (message control id) is empty"
        return base
    if (kind, event) not in SUPPORTED:
        base.refused = f"MSH-9: {kind}^{event} is not a message pms takes"
        return base
    try:
        base.handler = _handler(message, kind, event)
    except Refused as exc:
        base.refused = str(exc)
    return base


def _handler(message, kind: str, event: str) -> Callable:
    if not message.count("PID"):
        raise Refused("the PID segment is missing")
    ehr_id = field(message, "PID.F3.R1.C1")
    if not ehr_id:
        raise Refused("PID-3 (the patient's id) is empty")
    if kind == "ADT" and event == "A40":
        prior = field(message, "MRG.F1.R1.C1")
        if not prior:
            raise Refused("MRG-1 (the prior patient's id) is missing")
        return lambda ctx: interface.merge_patients(ctx, survivor_ehr_id=ehr_id, prior_ehr_id=prior)
    if kind == "ADT":
        data = PatientData(ehr_id, _patient_fields(message), _insurance(message))
        return lambda ctx: interface.apply_patient(ctx, data)
    if kind == "SIU":
        values = _appointment(message, event)
        return lambda ctx: interface.apply_appointment(ctx, ehr_id=ehr_id, values=values)
    visit = _visit(message)
    return lambda ctx: interface.post_charges(ctx, ehr_id=ehr_id, visit=visit)


def _patient_fields(message) -> dict[str, Any]:
    phones: dict[str, str] = {}
    email = None
    for n in range(1, 6):
        equipment = field(message, f"PID.F13.R{n}.C3").upper()
        number = field(message, f"PID.F13.R{n}.C6") + field(message, f"PID.F13.R{n}.C7")
        number = number or field(message, f"PID.F13.R{n}.C1")
        if equipment == "INTERNET" or field(message, f"PID.F13.R{n}.C2").upper() == "NET":
            email = email or field(message, f"PID.F13.R{n}.C4") or None
        elif number:
            phones.setdefault("mobile_phone" if equipment == "CP" else "home_phone", number)
    fields = {
        "last_name": field(message, "PID.F5.R1.C1"),
        "first_name": field(message, "PID.F5.R1.C2"),
        "middle_name": field(message, "PID.F5.R1.C3") or None,
        "suffix": field(message, "PID.F5.R1.C4") or None,
        "dob": _hl7_date(field(message, "PID.F7"), "PID-7"),
        "sex": _SEX.get(field(message, "PID.F8").upper(), field(message, "PID.F8") or None),
        "address1": field(message, "PID.F11.R1.C1"),
        "address2": field(message, "PID.F11.R1.C2") or None,
        "city": field(message, "PID.F11.R1.C3"),
        "state": field(message, "PID.F11.R1.C4"),
        "zip": field(message, "PID.F11.R1.C5"),
        "email": email,
        **phones,
    }
    account = field(message, "PID.F18.R1.C1")
    if account:
        fields["account_number"] = account
    death = field(message, "PID.F29")
    if death:
        fields["deceased_date"] = _hl7_date(death, "PID-29")
    return {k: v for k, v in fields.items() if v not in ("", None)}


def _seg(name: str, n: int) -> str:
    """The accessor prefix of the n-th segment called `name` ("IN1", "IN12")."""
    return name if n == 1 else f"{name}{n}"


def _insurance(message) -> list[dict[str, Any]]:
    found = []
    for n in range(1, message.count("IN1") + 1):
        seg = _seg("IN1", n)

        def get(path: str, seg=seg) -> str:
            return field(message, f"{seg}.{path}")

        code = get("F17.R1.C1").upper()
        relationship = _RELATIONSHIP.get(code, "other" if code else "self")
        set_id = get("F1")
        item: dict[str, Any] = {
            "payer": get("F3.R1.C1") or get("F4.R1.C1"),
            "member_id": get("F36") or get("F49.R1.C1"),
            "priority": int(set_id) if set_id in ("1", "2", "3") else n,
            "group_number": get("F8") or None,
            "plan_name": get("F9.R1.C1") or None,
            "effective_date": _hl7_date(get("F12"), f"IN1 {n}-12"),
            "termination_date": _hl7_date(get("F13"), f"IN1 {n}-13"),
            "relationship": relationship,
        }
        if relationship != "self":
            item.update(
                subscriber_last_name=get("F16.R1.C1") or None,
                subscriber_first_name=get("F16.R1.C2") or None,
                subscriber_dob=_hl7_date(get("F18"), f"IN1 {n}-18"),
                subscriber_sex=_SEX.get(get("F43").upper()),
            )
        if item["effective_date"] is None:
            raise Refused(f"IN1 {n}-12 (plan effective date) is empty")
        found.append(item)
    return found


def _appointment(message, event: str) -> dict[str, Any]:
    external = field(message, "SCH.F2.R1.C1") or field(message, "SCH.F1.R1.C1")
    if not external:
        raise Refused("SCH-1 and SCH-2 (the appointment's id) are empty")
    start = _hl7_datetime(
        field(message, "SCH.F11.R1.C4") or field(message, "AIS.F4"), "SCH-11.4 / AIS-4"
    )
    if start is None:
        raise Refused("SCH-11.4 and AIS-4 (the start) are empty")
    minutes = field(message, "SCH.F9") or field(message, "AIS.F7")
    values: dict[str, Any] = {
        "external_id": external,
        "provider": field(message, "AIP.F3.R1.C1") or field(message, "AIG.F3.R1.C1"),
        "location": field(message, "AIL.F3.R1.C4") or field(message, "AIL.F3.R1.C1") or None,
        "type": field(message, "AIS.F3.R1.C2") or field(message, "AIS.F3.R1.C1")
        or field(message, "SCH.F7.R1.C2") or field(message, "SCH.F7.R1.C1"),
        "start": start,
        "duration": int(minutes) if minutes.isdigit() else None,
        "note": field(message, "NTE.F3") or None,
    }  # fmt: skip
    status = _SIU_STATUS.get(event)
    if status:
        values["status"] = status
    if not values["provider"]:
        raise Refused("AIP-3 (the provider's NPI) is empty")
    if not values["type"]:
        raise Refused("AIS-3 (the appointment type) is empty")
    return values


def _repeats(message, path: str) -> list[str]:
    """The first component of each repetition of a field."""
    values = []
    for r in range(1, 13):
        value = field(message, f"{path}.R{r}.C1")
        if not value and not field(message, f"{path}.R{r}"):
            break
        if value:
            values.append(value)
    return values


def _visit(message) -> Visit:
    lines: list[ChargeLine] = []
    day = None
    npi = ""
    for n in range(1, message.count("FT1") + 1):
        seg = _seg("FT1", n)
        code = field(message, f"{seg}.F25.R1.C1") or field(message, f"{seg}.F7.R1.C1")
        if not code:
            raise Refused(f"FT1 {n}-25 and FT1 {n}-7 (the procedure) are empty")
        day = day or _hl7_date(field(message, f"{seg}.F4.R1.C1"), f"FT1 {n}-4")
        npi = npi or field(message, f"{seg}.F20.R1.C1")
        lines.append(
            ChargeLine(
                code=code.upper(),
                modifiers=_repeats(message, f"{seg}.F26"),
                units=field(message, f"{seg}.F10") or "1",
                diagnoses=_repeats(message, f"{seg}.F19"),
            )
        )
    if not lines:
        raise Refused("no FT1 segment (no charges)")
    if day is None:
        raise Refused("FT1-4 (the date of service) is empty")
    diagnoses = [
        field(message, f"{_seg('DG1', n)}.F3.R1.C1") for n in range(1, message.count("DG1") + 1)
    ]
    return Visit(
        service_date=day,
        provider_npi=npi,
        location=field(message, "PV1.F3.R1.C4") or field(message, "PV1.F3.R1.C1") or None,
        diagnoses=[d for d in diagnoses if d],
        lines=lines,
    )


def ack(interpreted: Interpreted, code: str, reason: str, *, control_id: str, now: datetime) -> str:
    """The ACK: MSH back to the sender, MSA with the code, the message's control
    id and the reason (separators removed)."""
    text = _UNSAFE.sub(" ", reason)[:200]
    event = interpreted.message_type.split("^")[1] if "^" in interpreted.message_type else ""
    msh = "|".join(
        [
            "MSH", "^~\\&", *interpreted.receiver, *interpreted.sender,
            now.strftime("%Y%m%d%H%M%S"), "", f"ACK^{event}^ACK", control_id, "P",
            interpreted.version,
        ]
    )  # fmt: skip
    return f"{msh}\rMSA|{code}|{interpreted.control_id}|{text}\r"
