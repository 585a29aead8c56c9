"""The X12 tokenizer: segments with their positions, and the envelope checked
as it streams by.

`X12Stream(data)` reads the delimiters from the ISA (element separator at ISA
position 4, repetition separator ISA11 unless it is "U", component separator
ISA16, segment terminator the character after ISA16), then yields one
`Segment` at a time. While it yields, it checks the envelope: ISA/IEA,
GS/GE and ST/SE nesting, the counts (SE01, GE01, IEA01) and the control
numbers (ST02/SE02, GS06/GE02, ISA13/IEA02). Line breaks between segments
and a UTF-8 byte-order mark are accepted. Given a binary file instead of
bytes, it reads the file a megabyte at a time, so a file of any size streams
in bounded memory.

Strict (the default), the first envelope problem raises `EnvelopeError`;
with `strict=False` problems that leave the file readable (counts, control
numbers, a missing trailer) are collected in `problems` and reading goes on,
which is what `pms x12 validate` and `pms x12 show` want.

Every message names the segment by its 1-based position in the file and
never quotes an element's value, except counts and control numbers.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from pms_core.edi import X12Error, X12Problem

__all__ = [
    "Delimiters",
    "Envelope",
    "EnvelopeError",
    "Segment",
    "X12Stream",
    "decode",
    "iter_segments",
    "transaction_kind",
    "VERSIONS",
]

ISA_LENGTH = 106  # the ISA is fixed width: 105 characters and its terminator
_CHUNK = 1 << 20  # split the text a megabyte at a time: fast and bounded
_BOM = "\ufeff"
_ENVELOPE_IDS = frozenset(("ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"))

# The version labels each transaction is read under (GS08/ST03). Where two
# labels are in use for the same guide, both are accepted.
VERSIONS: dict[str, tuple[str, ...]] = {
    "837P": ("005010X222A1", "005010X222A2"),
    "837I": ("005010X223A2", "005010X223A3"),
    "835": ("005010X221A1",),
    "999": ("005010X231", "005010X231A1"),
    "277CA": ("005010X214",),
    "277": ("005010X212",),
    "276": ("005010X212",),
    "270": ("005010X279A1",),
    "271": ("005010X279A1",),
}


def transaction_kind(functional_id: str | None, set_id: str | None, version: str | None) -> str:
    """What a transaction set is, from GS01, ST01 and the version label:
    "837P", "837I", "835", "999", "277CA", "277", "276", "270", "271", or
    the ST01 itself (e.g. "997", "834") when it is none of those."""
    version = version or ""
    if set_id == "837":
        if "X222" in version:
            return "837P"
        if "X223" in version:
            return "837I"
        return "837"
    if set_id == "277" and "X214" in version:
        return "277CA"
    return set_id or functional_id or ""


class Delimiters(NamedTuple):
    element: str
    component: str
    repetition: str | None
    segment: str


class EnvelopeError(X12Error):
    """An X12Error that knows where: the segment position, its id, the element
    and a short code, so a validator can list it like any other finding."""

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        segment: str | None = None,
        element: str | None = None,
        code: str = "envelope",
    ) -> None:
        self.position = position
        self.segment = segment
        self.element = element
        self.code = code
        self.detail = message
        super().__init__(_where(position, segment) + message)

    def problem(self) -> X12Problem:
        return X12Problem(self.segment, self.position, self.element, self.code, self.detail)


def _where(position: int | None, segment: str | None) -> str:
    if position is None:
        return ""
    return f"segment {position} ({segment}): " if segment else f"segment {position}: "


class Segment:
    """One segment: its 1-based position in the file, its id and its elements
    (``elements[0]`` is the id, ``elements[n]`` is element n)."""

    __slots__ = ("position", "id", "elements", "delimiters")

    def __init__(
        self, position: int, elements: list[str], delimiters: Delimiters | None = None
    ) -> None:
        self.position = position
        self.id = elements[0]
        self.elements = elements
        self.delimiters = delimiters

    def __repr__(self) -> str:  # positions and ids only: values may be PHI
        return f"<Segment {self.position} {self.id} ({len(self.elements) - 1} elements)>"

    def __len__(self) -> int:
        return len(self.elements) - 1

    def get(self, index: int, component: int | None = None) -> str:
        """Element `index` (1-based), or its `component` (1-based); "" when absent."""
        elements = self.elements
        value = elements[index] if index < len(elements) else ""
        if component is None:
            return value
        parts = value.split(self.delimiters.component) if self.delimiters else [value]
        return parts[component - 1] if component <= len(parts) else ""

    def components(self, index: int) -> list[str]:
        value = self.get(index)
        if not value:
            return []
        return value.split(self.delimiters.component) if self.delimiters else [value]

    def repetitions(self, index: int) -> list[str]:
        value = self.get(index)
        rep = self.delimiters.repetition if self.delimiters else None
        if not value:
            return []
        return value.split(rep) if rep else [value]

    def ref(self, index: int, component: int | None = None) -> str:
        """The reference designator of an element: "NM103", "CLM05-1"."""
        return f"{self.id}{index:02d}" + (f"-{component}" if component else "")

    def where(self) -> str:
        return f"segment {self.position} ({self.id})"

    def error(self, message: str, *, element: str | None = None, code: str = "syntax") -> X12Error:
        """An EnvelopeError located at this segment (the caller raises it)."""
        return EnvelopeError(
            message, position=self.position, segment=self.id, element=element, code=code
        )


@dataclass
class Envelope:
    """The envelope values in force while a segment is read: the interchange
    (ISA), the current functional group (GS) and transaction set (ST)."""

    sender_id: str = ""  # ISA06, trimmed
    receiver_id: str = ""  # ISA08, trimmed
    control: str = ""  # ISA13
    version: str = ""  # ISA12, e.g. "00501"
    usage: str = ""  # ISA15: P production, T test
    functional_id: str | None = None  # GS01
    group_control: str | None = None  # GS06
    group_version: str | None = None  # GS08
    set_id: str | None = None  # ST01
    set_control: str | None = None  # ST02
    set_version: str | None = None  # ST03, else GS08
    interchanges: int = 0

    @property
    def kind(self) -> str:
        return transaction_kind(self.functional_id, self.set_id, self.set_version)


def decode(data: bytes | str) -> str:
    """Text from bytes (UTF-8, else Latin-1) without a byte-order mark."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    else:
        text = data
    return text[1:] if text.startswith(_BOM) else text


def _decoded_chunks(source: BinaryIO) -> Iterator[str]:
    """Text from a binary file a chunk at a time: UTF-8 (a character split
    between two chunks is kept whole), switching to Latin-1 for the rest of
    the file at the first byte that is not UTF-8, as `decode` does for a
    whole file. A leading byte-order mark is dropped."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    first = True
    while block := source.read(_CHUNK):
        if utf8 is not None:
            try:
                text = utf8.decode(block)
            except UnicodeDecodeError:
                pending, _ = utf8.getstate()
                text, utf8 = (pending + block).decode("latin-1"), None
        else:
            text = block.decode("latin-1")
        if first and text.startswith(_BOM):
            text = text[1:]
        first = first and not text
        yield text
    if utf8 is not None:
        yield utf8.decode(b"", final=True)


def _is_segment_id(value: str) -> bool:
    return (
        2 <= len(value) <= 3
        and value.isascii()
        and value.isalnum()
        and value[0].isalpha()
        and value.isupper()
    )


def _count(seg: Segment, index: int) -> int:
    value = seg.get(index).strip()
    if not value.isdigit():
        raise seg.error(
            f"{seg.ref(index)} is {'missing' if not value else 'not a number'}",
            element=f"{index:02d}",
            code="envelope",
        )
    return int(value)


def _same_control(a: str, b: str, numeric: bool) -> bool:
    a, b = a.strip(), b.strip()
    if numeric and a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a == b


def _safe_control(value: str) -> str:
    """A control number fit for a message: digits only (a value with letters
    could be anything, even a name, so it is not repeated)."""
    value = value.strip()
    if value and len(value) <= 14 and value.isascii() and value.isdigit():
        return value
    return "(not numeric)"


@dataclass
class _Open:
    position: int
    control: str
    count: int = 0  # segments in the set / sets in the group / groups in the interchange


class X12Stream:
    """Iterate over the segments of one X12 file, checking the envelope.

    ``for seg in X12Stream(data): ...``; ``envelope`` holds the values of the
    ISA, GS and ST in force for the segment just yielded (for an ST, its own).
    Iterate once.
    """

    def __init__(self, data: bytes | str | BinaryIO, *, strict: bool = True) -> None:
        self.strict = strict
        self.problems: list[X12Problem] = []
        self.envelope = Envelope()
        self.delimiters: Delimiters | None = None
        self.segment_count = 0
        if isinstance(data, bytes | bytearray | memoryview | str):
            text = decode(data)
            self._chunks: Iterator[str] = iter(())
        else:  # a binary file: read a megabyte at a time, never the whole file
            self._chunks = _decoded_chunks(data)
            text = next(self._chunks, "")
            while len(text.lstrip()) < ISA_LENGTH and (more := next(self._chunks, None)):
                text += more
        self._text = text
        self._start = self._isa_start()
        self.delimiters = self._read_isa(self._text[self._start : self._start + ISA_LENGTH], 1)

    # --- the ISA --------------------------------------------------------------------
    def _isa_start(self) -> int:
        text = self._text
        if not text.strip():
            raise EnvelopeError("the file is empty", code="syntax")
        start = len(text) - len(text.lstrip())
        if text[start : start + 3] != "ISA":
            raise EnvelopeError(
                "the file does not start with an ISA segment (not an X12 interchange)",
                position=1,
                code="syntax",
            )
        return start

    def _read_isa(self, isa: str, position: int) -> Delimiters:
        """The delimiters declared by the ISA text `isa` (with its terminator)."""

        def bad(message: str) -> EnvelopeError:
            return EnvelopeError(message, position=position, segment="ISA", code="syntax")

        if len(isa) < ISA_LENGTH:
            raise bad(f"the ISA is shorter than {ISA_LENGTH} characters (truncated)")
        element = isa[3]
        if element.isalnum() or element.isspace():
            raise bad("the element separator (ISA position 4) is a letter, digit or space")
        # In a fixed-width ISA the 16th separator is at 0-based position 103.
        seps = [i for i, ch in enumerate(isa[:104]) if ch == element]
        if len(seps) != 16 or seps[-1] != 103:
            raise bad("the ISA does not have 16 fixed-width elements")
        component, terminator = isa[104], isa[105]
        repetition = isa[seps[10] + 1 : seps[11]]  # ISA11
        rep = repetition if len(repetition) == 1 and not repetition.isalnum() else None
        chosen = [element, component, terminator] + ([rep] if rep else [])
        if (
            len(set(chosen)) != len(chosen)
            or component.isalnum()
            or terminator.isalnum()
            or component.isspace()
        ):
            raise bad(
                "the ISA delimiters (element, repetition, component, segment terminator) "
                "are not distinct special characters"
            )
        if terminator in isa[:105]:
            raise bad("the segment terminator also appears inside the ISA")
        if self.delimiters is not None and terminator != self.delimiters.segment:
            raise bad("a further interchange in the file uses another segment terminator")
        return Delimiters(element, component, rep, terminator)

    # --- raw segments ---------------------------------------------------------------
    def _raw(self) -> Iterator[str]:
        """The text between terminators, a chunk at a time; the last item is
        what follows the last terminator (normally nothing or a line break)."""
        text, term = self._text, self.delimiters.segment
        n, pos = len(text), self._start
        while True:
            stop = pos + _CHUNK
            cut = text.find(term, stop) if stop < n else -1
            if cut < 0:
                break
            yield from text[pos:cut].split(term)
            pos = cut + 1
        rest = text[pos:]
        self._text = ""  # a file's first chunk is not kept while the rest streams
        for chunk in self._chunks:
            pieces = (rest + chunk).split(term)
            rest = pieces.pop()
            yield from pieces
        yield from rest.split(term)

    # --- problems -------------------------------------------------------------------
    def _problem(
        self,
        message: str,
        position: int | None,
        segment: str | None,
        element: str | None = None,
        code: str = "envelope",
    ) -> None:
        if self.strict:
            raise EnvelopeError(
                message, position=position, segment=segment, element=element, code=code
            )
        self.problems.append(X12Problem(segment, position, element, code, message))

    def _count(self, seg: Segment, index: int) -> int | None:
        try:
            return _count(seg, index)
        except EnvelopeError as exc:
            if self.strict:
                raise
            self.problems.append(exc.problem())
            return None

    # --- the walk -------------------------------------------------------------------
    def __iter__(self) -> Iterator[Segment]:
        delims = self.delimiters
        assert delims is not None
        sep = delims.element
        strip_cr = delims.segment == "\n"
        blank_lines_ok = delims.segment.isspace()  # a line break ends each segment
        env = self.envelope
        problem = self._problem
        position = 0
        isa: _Open | None = None
        gs: _Open | None = None
        st: _Open | None = None
        ended = False  # an IEA closed the last interchange
        known_ids: set[str] = set()
        pieces = self._raw()
        piece = next(pieces)
        for following in pieces:
            # `piece` ended with a terminator; `following` comes after it.
            raw, piece = piece, following
            if raw[:1].isspace():
                raw = raw.lstrip()  # line breaks (or stray blanks) between segments
            if strip_cr and raw[-1:] == "\r":
                raw = raw[:-1]
            if not raw:
                if blank_lines_ok:
                    continue  # a blank line where the terminator is a line break
                position += 1
                problem("empty segment", position, None, code="syntax")
                continue
            position += 1
            elements = raw.split(sep)
            sid = elements[0]
            if sid not in known_ids:
                if not _is_segment_id(sid):
                    raise EnvelopeError(
                        "not a segment: the segment identifier is missing or invalid",
                        position=position,
                        code="syntax",
                    )
                known_ids.add(sid)
            if st is not None:
                st.count += 1
                if sid not in _ENVELOPE_IDS:  # the common case: a segment inside a set
                    self.segment_count = position
                    yield Segment(position, elements, delims)
                    continue
            if sid == "ISA":
                if position > 1:
                    if isa is not None and not ended:
                        problem(
                            f"ISA before the IEA of the interchange that began at segment "
                            f"{isa.position} (IEA missing)",
                            position,
                            "ISA",
                        )
                    delims = self.delimiters = self._read_isa(raw + delims.segment, position)
                    sep = delims.element
                    elements = raw.split(sep)
                seg = Segment(position, elements, delims)
                isa = _Open(position, seg.get(13))
                gs = st = None
                ended = False
                env.sender_id = seg.get(6).strip()
                env.receiver_id = seg.get(8).strip()
                env.control = seg.get(13).strip()
                env.version = seg.get(12).strip()
                env.usage = seg.get(15).strip()
                env.functional_id = env.group_control = env.group_version = None
                env.set_id = env.set_control = env.set_version = None
                env.interchanges += 1
                self.segment_count = position
                yield seg
                continue
            seg = Segment(position, elements, delims)
            if isa is None or ended:
                problem("segment after the IEA (outside an interchange)", position, sid)
                isa = isa or _Open(position, "")
                ended = False
            if sid == "GS":
                if st is not None:
                    problem(
                        f"GS before the SE of the transaction set that began at segment "
                        f"{st.position} (SE missing)",
                        position,
                        "GS",
                    )
                    st = None
                if gs is not None:
                    problem(
                        f"GS before the GE of the functional group that began at segment "
                        f"{gs.position} (GE missing)",
                        position,
                        "GS",
                    )
                gs = _Open(position, seg.get(6))
                isa.count += 1
                env.functional_id = seg.get(1)
                env.group_control = seg.get(6).strip()
                env.group_version = seg.get(8).strip()
                env.set_id = env.set_control = env.set_version = None
            elif sid == "ST":
                if st is not None:
                    problem(
                        f"ST before the SE of the transaction set that began at segment "
                        f"{st.position} (SE missing)",
                        position,
                        "ST",
                    )
                if gs is None:
                    problem("ST outside a functional group (GS missing)", position, "ST")
                    gs = _Open(position, "")
                st = _Open(position, seg.get(2), count=1)
                gs.count += 1
                env.set_id = seg.get(1)
                env.set_control = seg.get(2).strip()
                env.set_version = seg.get(3).strip() or env.group_version
            elif sid == "SE":
                if st is None:
                    problem("SE without an ST", position, "SE")
                else:
                    declared = self._count(seg, 1)
                    if declared is not None and declared != st.count:
                        problem(
                            f"SE count wrong: SE01 says {declared} segments, the transaction "
                            f"set that began at segment {st.position} has {st.count}",
                            position,
                            "SE",
                            "01",
                        )
                    if not _same_control(seg.get(2), st.control, numeric=False):
                        problem(
                            f"SE02 {_safe_control(seg.get(2))} does not match ST02 "
                            f"{_safe_control(st.control)} (segment {st.position})",
                            position,
                            "SE",
                            "02",
                        )
                st = None
            elif sid == "GE":
                if st is not None:
                    problem(
                        f"GE before the SE of the transaction set that began at segment "
                        f"{st.position} (SE missing)",
                        position,
                        "GE",
                    )
                    st = None
                if gs is None:
                    problem("GE without a GS", position, "GE")
                else:
                    declared = self._count(seg, 1)
                    if declared is not None and declared != gs.count:
                        problem(
                            f"GE count wrong: GE01 says {declared} transaction sets, the "
                            f"functional group that began at segment {gs.position} has "
                            f"{gs.count}",
                            position,
                            "GE",
                            "01",
                        )
                    if not _same_control(seg.get(2), gs.control, numeric=True):
                        problem(
                            f"GE02 {_safe_control(seg.get(2))} does not match GS06 "
                            f"{_safe_control(gs.control)} (segment {gs.position})",
                            position,
                            "GE",
                            "02",
                        )
                gs = None
            elif sid == "IEA":
                if st is not None:
                    problem(
                        f"IEA before the SE of the transaction set that began at segment "
                        f"{st.position} (SE missing)",
                        position,
                        "IEA",
                    )
                    st = None
                if gs is not None:
                    problem(
                        f"IEA before the GE of the functional group that began at segment "
                        f"{gs.position} (GE missing)",
                        position,
                        "IEA",
                    )
                    gs = None
                declared = self._count(seg, 1)
                if declared is not None and declared != isa.count:
                    problem(
                        f"IEA count wrong: IEA01 says {declared} functional groups, the "
                        f"interchange that began at segment {isa.position} has {isa.count}",
                        position,
                        "IEA",
                        "01",
                    )
                if not _same_control(seg.get(2), isa.control, numeric=True):
                    problem(
                        f"IEA02 {_safe_control(seg.get(2))} does not match ISA13 "
                        f"{_safe_control(isa.control)} (segment {isa.position})",
                        position,
                        "IEA",
                        "02",
                    )
                ended = True
            elif st is None and sid != "TA1":
                problem("segment outside a transaction set (ST missing)", position, sid)
            self.segment_count = position
            yield seg
        # `piece` is what follows the last terminator.
        self.segment_count = position
        if piece.strip():
            problem(
                f"the file ends inside segment {position + 1}: it has no segment terminator "
                "(truncated?)",
                position + 1,
                None,
                code="syntax",
            )
        if st is not None:
            problem(
                f"the file ends after segment {position} inside the transaction set that "
                f"began at segment {st.position}: SE missing (truncated?)",
                None,
                None,
            )
        if gs is not None:
            problem(
                f"the file ends after segment {position} inside the functional group that "
                f"began at segment {gs.position}: GE missing (truncated?)",
                None,
                None,
            )
        if isa is not None and not ended:
            problem(
                f"the file ends after segment {position} without the IEA of the interchange "
                f"that began at segment {isa.position} (truncated?)",
                None,
                None,
            )


def iter_segments(data: bytes | str, *, strict: bool = True) -> Iterator[Segment]:
    """The segments of `data`, envelope checked (see `X12Stream`)."""
    return iter(X12Stream(data, strict=strict))
