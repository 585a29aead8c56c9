"""The X12 eligibility (270 out, 271 in) and claim status (276 out, 277 in)
formats as the core's `EligibilityFormat` and `StatusFormat`: the core hands
them plain requests and gets plain answers."""

from __future__ import annotations

from datetime import date, datetime

from pms_core.eligdata import (
    EligibilityAnswer,
    EligibilityInquiry,
    StatusAnswer,
    StatusRequest,
)


def _first(data: bytes, segment_id: bytes, element: int) -> str | None:
    """An element of the first `segment_id` segment in the file's head, read
    with the delimiters the ISA declares; None when there is none."""
    head = data.lstrip(b"\xef\xbb\xbf \r\n\t")[:4096]
    if not head.startswith(b"ISA") or len(head) < 106:
        return None
    separator, terminator = head[3:4], head[105:106]
    for segment in head.split(terminator):
        fields = segment.strip().split(separator)
        if fields[0] == segment_id and len(fields) > element:
            return fields[element].decode("ascii", "replace")
    return None


def functional_id(data: bytes) -> str | None:
    """GS01 of the first group (HS 270, HB 271, HR 276, HN 277, HC 837)."""
    return _first(data, b"GS", 1)


def group_date(data: bytes) -> date | None:
    """GS04 of the first group: the day the file was made; None when unreadable."""
    text = _first(data, b"GS", 4) or ""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


class X12Eligibility:
    name = "x12-5010"

    def write(
        self,
        inquiry: EligibilityInquiry,
        *,
        sender_id: str,
        receiver_id: str,
        control: int,
        created: datetime,
        production: bool,
    ) -> bytes:
        from pms_x12.eligibility import write_270

        text = write_270(
            inquiry,
            sender_id=sender_id,
            receiver_id=receiver_id,
            control=control,
            created=created,
            production=production,
        )
        return text.encode("ascii")

    def read(self, data: bytes) -> list[EligibilityAnswer] | None:
        if functional_id(data) != "HB":  # HB: eligibility responses (271)
            return None
        from pms_x12.eligibility import read_271

        return read_271(data)


class X12ClaimStatus:
    name = "x12-5010"

    def write(
        self,
        request: StatusRequest,
        *,
        sender_id: str,
        receiver_id: str,
        control: int,
        created: datetime,
        production: bool,
    ) -> bytes:
        from pms_x12.claimstatus import write_276

        text = write_276(
            request,
            sender_id=sender_id,
            receiver_id=receiver_id,
            control=control,
            created=created,
            production=production,
        )
        return text.encode("ascii")

    def read(self, data: bytes) -> list[StatusAnswer] | None:
        """A 277 claim status response (GS01 HN); a 277CA is HN too but its
        BHT says 0085 with transaction type TH, and is left to the
        acknowledgment reader."""
        if functional_id(data) != "HN" or _first(data, b"BHT", 1) != "0010":
            return None
        from pms_x12.claimstatus import read_277

        return read_277(data)
