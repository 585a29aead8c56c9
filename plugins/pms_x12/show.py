"""`pms x12 show`: an X12 file as a tree of loops, segments and named elements.

Loop, segment and element names come from pyx12's map files where pyx12 has a
5010 map (837P, 837I, 835, 999, 277CA); for 270/271 and 276/277 (X212), which
pyx12 cannot map, from our own small tables (`_X279`, `_X212` below and
`names`). The tree is built while the file streams by; envelope problems
(wrong counts, a missing trailer) are listed with the tree instead of
stopping it, since the point is to look at the file.

The tree holds the file's values: it is for the user's own terminal, never
for a log.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from pms_x12 import names
from pms_x12.segments import Segment, X12Stream

__all__ = ["build_tree", "render", "render_table", "rows"]


# --- map specs ----------------------------------------------------------------------
@dataclass
class ElementSpec:
    name: str
    components: dict[int, str] = field(default_factory=dict)


@dataclass
class SegSpec:
    id: str
    name: str | None
    key: tuple[int, int | None, frozenset[str]] | None = None
    elements: dict[int, ElementSpec] = field(default_factory=dict)

    def matches(self, seg: Segment, *, loose: bool = False) -> bool:
        if seg.id != self.id:
            return False
        if self.key is None or loose:
            return True
        index, component, codes = self.key
        return seg.get(index, component).strip() in codes


@dataclass
class LoopSpec:
    id: str
    name: str | None
    children: list[SegSpec | LoopSpec] = field(default_factory=list)

    def first(self) -> SegSpec | None:
        for child in self.children:
            return child if isinstance(child, SegSpec) else child.first()
        return None


# --- pyx12 maps -----------------------------------------------------------------------
_MAP_DIR = files("pyx12") / "map"

# Version labels pyx12 has no map for, read with the map of the label they revise.
_MAP_ALIASES = {"005010X222A2": "005010X222A1", "005010X223A3": "005010X223A2"}


@cache
def _map_index() -> dict[tuple[str, str], str]:
    """(GS01, GS08) -> map file name, for interchange version 00501."""
    root = ET.fromstring(_MAP_DIR.joinpath("maps.xml").read_bytes())
    out: dict[tuple[str, str], str] = {}
    for version in root.iter("version"):
        if version.get("icvn") != "00501":
            continue
        for entry in version.iter("map"):
            if entry.get("vriic") and entry.text:
                out[(entry.get("fic") or "", entry.get("vriic") or "")] = entry.text.strip()
    return out


def _text(node: ET.Element, tag: str) -> str | None:
    value = node.findtext(tag)
    return value.strip() if value else None


def _codes(node: ET.Element) -> frozenset[str]:
    return frozenset((c.text or "").strip() for c in node.iterfind("valid_codes/code"))


def _seg_spec(node: ET.Element) -> SegSpec:
    spec = SegSpec(node.get("xid") or "", _text(node, "name"))
    children = [c for c in node if c.tag in ("element", "composite")]
    for child in children:
        seq = int(_text(child, "seq") or "0")
        element = ElementSpec(_text(child, "name") or "")
        if child.tag == "composite":
            for sub in child.iterfind("element"):
                element.components[int(_text(sub, "seq") or "0")] = _text(sub, "name") or ""
        spec.elements[seq] = element
    # The element that tells one use of a segment from another (as pyx12 does it).
    first = children[0] if children else None
    if first is not None and first.tag == "element" and _text(first, "usage") == "R":
        if codes := _codes(first):
            spec.key = (1, None, codes)
    elif first is not None and first.tag == "composite":
        sub = first.find("element")
        if sub is not None and (codes := _codes(sub)):
            spec.key = (1, 1, codes)
    if spec.id == "HL" and len(children) > 2 and (codes := _codes(children[2])):
        spec.key = (3, None, codes)
    return spec


def _loop_spec(node: ET.Element) -> LoopSpec:
    loop = LoopSpec(node.get("xid") or "", _text(node, "name"))
    for child in node:
        if child.tag == "segment":
            loop.children.append(_seg_spec(child))
        elif child.tag == "loop":
            inner = _loop_spec(child)
            if child.get("type") == "wrapper":
                loop.children.extend(inner.children)  # HEADER/DETAIL/FOOTER: no real loop
            else:
                loop.children.append(inner)
    return loop


@cache
def _pyx12_spec(filename: str) -> LoopSpec | None:
    root = ET.fromstring(_MAP_DIR.joinpath(filename).read_bytes())
    node = root.find(".//loop[@xid='ST_LOOP']")
    return _loop_spec(node) if node is not None else None


# --- our own specs for 270/271 and 276/277 (X212) ------------------------------------
def _seg(
    sid: str, name: str | None = None, key: tuple[int, Iterable[str]] | None = None
) -> SegSpec:
    spec = SegSpec(sid, name or names.SEGMENT_NAMES.get(sid))
    if key is not None:
        spec.key = (key[0], None, frozenset(key[1]))
    for seq, element in names.ELEMENT_NAMES.get(sid, {}).items():
        spec.elements[seq] = ElementSpec(element, dict(names.COMPONENT_NAMES.get((sid, seq), {})))
    return spec


def _loop(lid: str, name: str, *children: SegSpec | LoopSpec) -> LoopSpec:
    return LoopSpec(lid, name, list(children))


def _hl(code: str, name: str) -> SegSpec:
    return _seg("HL", name, (3, [code]))


def _x279(response: bool) -> LoopSpec:
    """270 (inquiry) or 271 (response), 005010X279A1."""
    ask = "EB" if response else "EQ"

    def benefit(suffix: str, who: str) -> LoopSpec:
        verb = "Information" if response else "Inquiry"
        return _loop(
            f"2110{suffix}",
            f"{who} Eligibility or Benefit {verb}",
            _seg(ask),
            _seg("HSD"),
            _seg("REF"),
            _seg("DTP"),
            _seg("AAA"),
            _seg("MSG"),
            _seg("AMT"),
            _seg("III"),
            _loop(
                f"2115{suffix}", f"{who} Eligibility or Benefit Additional Information", _seg("III")
            ),
            _seg("LS"),
            _loop(
                f"2120{suffix}",
                f"{who} Benefit Related Entity Name",
                _seg("NM1"),
                _seg("N3"),
                _seg("N4"),
                _seg("PER"),
                _seg("PRV"),
            ),
            _seg("LE"),
        )

    def person(suffix: str, who: str, qualifiers: list[str]) -> LoopSpec:
        return _loop(
            f"2100{suffix}",
            f"{who} Name",
            _seg("NM1", f"{who} Name", (1, qualifiers)),
            _seg("REF"),
            _seg("N3"),
            _seg("N4"),
            _seg("AAA"),
            _seg("PRV"),
            _seg("DMG"),
            _seg("INS"),
            _seg("HI"),
            _seg("DTP"),
            _seg("MPI"),
            benefit(suffix, who),
        )

    dependent = _loop(
        "2000D",
        "Dependent Level",
        _hl("23", "Dependent Level"),
        _seg("TRN"),
        person("D", "Dependent", ["03"]),
    )
    subscriber = _loop(
        "2000C",
        "Subscriber Level",
        _hl("22", "Subscriber Level"),
        _seg("TRN"),
        person("C", "Subscriber", ["IL"]),
        dependent,
    )
    receiver = _loop(
        "2000B",
        "Information Receiver Level",
        _hl("21", "Information Receiver Level"),
        _loop(
            "2100B",
            "Information Receiver Name",
            _seg("NM1", "Information Receiver Name"),
            _seg("REF"),
            _seg("N3"),
            _seg("N4"),
            _seg("AAA"),
            _seg("PRV"),
        ),
        subscriber,
    )
    source = _loop(
        "2000A",
        "Information Source Level",
        _hl("20", "Information Source Level"),
        _seg("AAA"),
        _loop(
            "2100A",
            "Information Source Name",
            _seg("NM1", "Information Source Name"),
            _seg("PER"),
            _seg("AAA"),
        ),
        receiver,
    )
    return _loop("ST_LOOP", "Transaction Set Header", _seg("ST"), _seg("BHT"), source, _seg("SE"))


def _x212(response: bool) -> LoopSpec:
    """276 (request) or 277 (response), 005010X212."""
    line_id = "2220" if response else "2210"

    def claim(suffix: str) -> LoopSpec:
        return _loop(
            f"2200{suffix}",
            "Claim Status Tracking Number",
            _seg("TRN", "Claim Status Tracking Number"),
            _seg("STC", "Claim Level Status Information"),
            _seg("REF"),
            _seg("AMT"),
            _seg("DTP"),
            _loop(
                f"{line_id}{suffix}",
                "Service Line Information",
                _seg("SVC", "Service Line Information"),
                _seg("STC", "Service Line Status Information"),
                _seg("REF"),
                _seg("DTP"),
            ),
        )

    dependent = _loop(
        "2000E",
        "Dependent Level",
        _hl("23", "Dependent Level"),
        _seg("DMG"),
        _loop("2100E", "Dependent Name", _seg("NM1", "Dependent Name", (1, ["QC"]))),
        claim("E"),
    )
    subscriber = _loop(
        "2000D",
        "Subscriber Level",
        _hl("22", "Subscriber Level"),
        _seg("DMG"),
        _loop("2100D", "Subscriber Name", _seg("NM1", "Subscriber Name", (1, ["IL"]))),
        claim("D"),
        dependent,
    )
    provider = _loop(
        "2000C",
        "Service Provider Level",
        _hl("19", "Service Provider Level"),
        _loop("2100C", "Service Provider Name", _seg("NM1", "Service Provider Name")),
        subscriber,
    )
    receiver = _loop(
        "2000B",
        "Information Receiver Level",
        _hl("21", "Information Receiver Level"),
        _loop("2100B", "Information Receiver Name", _seg("NM1", "Information Receiver Name")),
        provider,
    )
    source = _loop(
        "2000A",
        "Information Source Level",
        _hl("20", "Information Source Level"),
        _loop("2100A", "Payer Name", _seg("NM1", "Payer Name"), _seg("PER")),
        receiver,
    )
    return _loop("ST_LOOP", "Transaction Set Header", _seg("ST"), _seg("BHT"), source, _seg("SE"))


@cache
def _own_spec(kind: str) -> LoopSpec | None:
    builders = {
        "270": lambda: _x279(False),
        "271": lambda: _x279(True),
        "276": lambda: _x212(False),
        "277": lambda: _x212(True),
    }
    return builders[kind]() if kind in builders else None


def spec_for(functional_id: str | None, set_id: str | None, version: str | None) -> LoopSpec | None:
    """The loop map for a transaction set, or None (segments are then listed flat)."""
    version = (version or "").strip()
    label = _MAP_ALIASES.get(version, version)
    filename = _map_index().get((functional_id or "", label))
    if filename and set_id != "997":
        return _pyx12_spec(filename)
    if set_id in ("270", "271") and version.startswith("005010X279"):
        return _own_spec(set_id)
    if set_id in ("276", "277") and version.startswith("005010X212"):
        return _own_spec(set_id)
    return None


# --- walking the map ------------------------------------------------------------------
@dataclass
class _Frame:
    spec: LoopSpec
    node: dict[str, Any]
    index: int = 0


def _loop_node(spec: LoopSpec) -> dict[str, Any]:
    return {"loop": spec.id, "name": spec.name, "children": []}


class _Walker:
    """Places each segment of one transaction set in its loop."""

    def __init__(self, spec: LoopSpec, root: dict[str, Any]) -> None:
        self.stack = [_Frame(spec, root)]

    def place(self, seg: Segment) -> tuple[dict[str, Any], SegSpec | None]:
        """Find the segment's place: forward in the current loop, else in an
        enclosing one (closing the loops in between), else a new loop there;
        first by id and qualifier, then by id alone. A segment with no place
        stays in the current loop, unnamed."""
        for loose in (False, True):
            for depth in range(len(self.stack) - 1, -1, -1):
                frame = self.stack[depth]
                children = frame.spec.children
                # A loop's first segment appears once per loop: seen again, it
                # starts a new loop (found in the enclosing frame).
                start = max(frame.index, 1) if depth else frame.index
                for i in range(start, len(children)):
                    child = children[i]
                    if isinstance(child, SegSpec):
                        if child.matches(seg, loose=loose):
                            del self.stack[depth + 1 :]
                            frame.index = i
                            return frame.node, child
                    else:
                        first = child.first()
                        if first is not None and first.matches(seg, loose=loose):
                            del self.stack[depth + 1 :]
                            frame.index = i
                            return self._enter(child, frame, seg)
        top = self.stack[-1]
        return top.node, None

    def _enter(self, spec: LoopSpec, parent: _Frame, seg: Segment):
        node = _loop_node(spec)
        parent.node["children"].append(node)
        frame = _Frame(spec, node)
        self.stack.append(frame)
        first = spec.children[0] if spec.children else None
        if isinstance(first, LoopSpec):
            return self._enter(first, frame, seg)
        return node, first if isinstance(first, SegSpec) else None


# --- segments as nodes ------------------------------------------------------------------
def _meaning(seg_id: str, index: int, component: int | None, value: str) -> str | None:
    """A code's meaning in words, for the codes a biller reads in acknowledgments."""
    table: dict[str, str] | None = None
    if seg_id == "TA1":
        table = {4: names.TA1_STATUS, 5: names.TA1_NOTES}.get(index)
    elif seg_id == "IK3" and index == 4:
        table = names.SEGMENT_ERRORS
    elif seg_id == "IK4" and index == 3:
        table = names.ELEMENT_ERRORS
    elif seg_id == "IK5":
        table = names.ACK_STATUS if index == 1 else names.SET_SYNTAX_ERRORS
    elif seg_id == "AK9":
        table = (
            names.ACK_STATUS if index == 1 else names.GROUP_SYNTAX_ERRORS if index >= 5 else None
        )
    elif seg_id == "STC" and index in (1, 10, 11) and component:
        if component == 1:
            return names.CLAIM_STATUS_CATEGORIES.get(value)
        if component == 2:
            return names.CLAIM_STATUS_CODES.get(value)
        if component == 3:
            return names.ENTITIES.get(value)
    return table.get(value) if table else None


_GENERIC: dict[str, SegSpec] = {}


def _generic(sid: str) -> SegSpec:
    if sid not in _GENERIC:
        _GENERIC[sid] = _seg(sid)
    return _GENERIC[sid]


def _segment_node(seg: Segment, spec: SegSpec | None) -> dict[str, Any]:
    generic = _generic(seg.id)
    name = (spec.name if spec else None) or generic.name
    elements = []
    delims = seg.delimiters
    for index in range(1, len(seg.elements)):
        value = seg.elements[index]
        if value == "":
            continue
        element = (spec.elements.get(index) if spec else None) or generic.elements.get(index)
        ref = seg.ref(index)
        item: dict[str, Any] = {"id": ref, "name": element.name if element else None}
        item["value"] = value
        if seg.id != "ISA" and delims is not None:
            if delims.repetition and delims.repetition in value:
                item["repeats"] = value.split(delims.repetition)
            comps = value.split(delims.component) if delims.component in value else None
            if comps is None and element is not None and element.components:
                comps = [value]
            if comps is not None:
                item["components"] = [
                    {
                        "id": f"{ref}-{n}",
                        "name": element.components.get(n) if element else None,
                        "value": part,
                        **(
                            {"meaning": m}
                            if (m := _meaning(seg.id, index, n, part)) is not None
                            else {}
                        ),
                    }
                    for n, part in enumerate(comps, start=1)
                    if part != ""
                ]
        meaning = _meaning(seg.id, index, None, value)
        if meaning is not None:
            item["meaning"] = meaning
        elements.append(item)
    return {"segment": seg.id, "position": seg.position, "name": name, "elements": elements}


# --- the tree -----------------------------------------------------------------------------
_CONTROL_LOOPS = {
    "ISA": ("ISA_LOOP", "Interchange Control Header"),
    "GS": ("GS_LOOP", "Functional Group Header"),
    "ST": ("ST_LOOP", "Transaction Set Header"),
}


def build_tree(data: bytes | str) -> dict[str, Any]:
    """The whole file as a JSON-ready tree (see the module docstring). Raises
    X12Error only for a file that is not X12 at all (empty, no ISA, a broken
    ISA or segment identifier); other problems are listed under "problems"."""
    stream = X12Stream(data, strict=False)
    env = stream.envelope
    interchanges: list[dict[str, Any]] = []
    transactions: list[str] = []
    isa_node: dict[str, Any] | None = None
    gs_node: dict[str, Any] | None = None
    st_node: dict[str, Any] | None = None
    walker: _Walker | None = None
    for seg in stream:
        sid = seg.id
        if sid == "ISA":
            isa_node = _loop_node(LoopSpec(*_CONTROL_LOOPS["ISA"]))
            interchanges.append(isa_node)
            isa_node["children"].append(_segment_node(seg, None))
            gs_node = st_node = walker = None
            continue
        if sid == "GS":
            gs_node = _loop_node(LoopSpec(*_CONTROL_LOOPS["GS"]))
            isa_node["children"].append(gs_node)
            gs_node["children"].append(_segment_node(seg, None))
            st_node = walker = None
            continue
        if sid == "ST":
            spec = spec_for(env.functional_id, env.set_id, env.set_version)
            kind = env.kind
            transactions.append(kind)
            st_node = _loop_node(spec or LoopSpec(*_CONTROL_LOOPS["ST"]))
            st_node["transaction"] = kind
            st_node["version"] = env.set_version
            (gs_node or isa_node)["children"].append(st_node)
            walker = _Walker(spec, st_node) if spec else None
            if walker is not None:
                node, seg_spec = walker.place(seg)
                node["children"].append(_segment_node(seg, seg_spec))
            else:
                st_node["children"].append(_segment_node(seg, None))
            continue
        if st_node is not None:
            if walker is not None:
                node, seg_spec = walker.place(seg)
            else:
                node, seg_spec = st_node, None
            node["children"].append(_segment_node(seg, seg_spec))
            if sid == "SE":
                st_node = walker = None
            continue
        parent = gs_node if (gs_node is not None and sid != "IEA") else isa_node
        parent["children"].append(_segment_node(seg, None))
        if sid == "GE":
            gs_node = None
    return {
        "transactions": sorted(set(transactions)) or (["TA1"] if _has_ta1(interchanges) else []),
        "segments": stream.segment_count,
        "problems": [_problem_text(p) for p in stream.problems],
        "interchanges": interchanges,
    }


def _has_ta1(interchanges: list[dict[str, Any]]) -> bool:
    return any(c.get("segment") == "TA1" for i in interchanges for c in i["children"])


def _problem_text(problem) -> str:
    where = ""
    if problem.position:
        where = f"segment {problem.position}" + (f" ({problem.segment})" if problem.segment else "")
        where += ": "
    return where + problem.message


# --- output ---------------------------------------------------------------------------------
def _walk(node: dict[str, Any], depth: int, loop: str | None) -> Iterator[dict[str, Any]]:
    if "loop" in node:
        yield {
            "depth": depth,
            "kind": "loop",
            "id": node["loop"],
            "name": node["name"],
            "value": None,
            "position": None,
            "loop": node["loop"],
        }
        for child in node["children"]:
            yield from _walk(child, depth + 1, node["loop"])
        return
    yield {
        "depth": depth,
        "kind": "segment",
        "id": node["segment"],
        "name": node["name"],
        "value": None,
        "position": node["position"],
        "loop": loop,
    }
    for element in node["elements"]:
        value = element["value"]
        if element.get("meaning"):
            value = f"{value} ({element['meaning']})"
        yield {
            "depth": depth + 1,
            "kind": "element",
            "id": element["id"],
            "name": element["name"],
            "value": value,
            "position": node["position"],
            "loop": loop,
        }
        for comp in element.get("components", ()):
            value = comp["value"]
            if comp.get("meaning"):
                value = f"{value} ({comp['meaning']})"
            yield {
                "depth": depth + 2,
                "kind": "component",
                "id": comp["id"],
                "name": comp["name"],
                "value": value,
                "position": node["position"],
                "loop": loop,
            }


def rows(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The tree flattened: one row per loop, segment, element and component."""
    out: list[dict[str, Any]] = []
    for interchange in tree["interchanges"]:
        out.extend(_walk(interchange, 0, None))
    return out


def render_table(tree: dict[str, Any]) -> str:
    """An indented table: segment position, id (indented by depth), name, value."""
    table = rows(tree)
    width_id = max((2 * r["depth"] + len(r["id"]) for r in table), default=0)
    width_name = min(max((len(r["name"] or "") for r in table), default=0), 48)
    lines = []
    for r in table:
        pos = str(r["position"]) if r["kind"] == "segment" else ""
        ident = ("  " * r["depth"] + r["id"]).ljust(width_id)
        name = (r["name"] or "")[:48].ljust(width_name)
        value = "" if r["value"] is None else r["value"]
        lines.append(f"{pos:>7}  {ident}  {name}  {value}".rstrip())
    return "\n".join(lines)


def render(tree: dict[str, Any], fmt: str) -> str:
    """`tree` as "json", "table", "jsonl" (one row a line) or "csv"."""
    if fmt == "json":
        return json.dumps(tree, indent=2, ensure_ascii=False)
    if fmt == "table":
        return render_table(tree)
    columns = ["position", "loop", "kind", "id", "name", "value"]
    flat = [{c: r.get(c) for c in columns} for r in rows(tree)]
    if fmt == "jsonl":
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in flat)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return buf.getvalue().rstrip("\n")
    raise ValueError(f"unknown format {fmt!r}")
