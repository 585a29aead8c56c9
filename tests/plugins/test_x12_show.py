"""`pms x12 show`: every supported transaction as loops (with ids and names),
segments and named elements, as JSON or an indented table; honours the global
`--format` when its own is not given; logs nothing."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from pathlib import Path

import pytest
from pms_x12.show import build_tree, render, rows

from pms_core.edi import X12Error
from tests.cli_helpers import run_cli

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"X12 samples not found at {SAMPLES}"
)
FOLDERS = ["270", "271", "276", "277", "277CA", "835", "837I", "837P", "999"]


def sample_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for folder in FOLDERS for p in (SAMPLES / folder).glob("*") if p.is_file())


def sample(folder: str, name: str) -> Path:
    return SAMPLES / folder / name


def tree_of(path: Path) -> dict:
    return build_tree(path.read_bytes())


def segments(node: dict, loops: tuple[str, ...] = ()):
    """(loop path, segment node) for every segment in the tree."""
    if "loop" in node:
        for child in node["children"]:
            yield from segments(child, (*loops, node["loop"]))
    else:
        yield loops, node


def all_segments(tree: dict):
    for interchange in tree["interchanges"]:
        yield from segments(interchange)


def loops(tree: dict) -> dict[str, str]:
    out = {}

    def walk(node):
        if "loop" in node:
            out.setdefault(node["loop"], node["name"])
            for child in node["children"]:
                walk(child)

    for interchange in tree["interchanges"]:
        walk(interchange)
    return out


def element(node: dict, ref: str) -> dict:
    return next(e for e in node["elements"] if e["id"] == ref)


# --- every sample ------------------------------------------------------------------------
@needs_samples
@pytest.mark.parametrize("path", sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_shows_every_segment_named_inside_named_loops(path):
    tree = tree_of(path)
    assert tree["transactions"] == [path.parent.name]
    placed = list(all_segments(tree))
    assert [node["position"] for _, node in placed] == list(range(1, tree["segments"] + 1))
    for loop_path, node in placed:
        assert node["name"], (node["position"], node["segment"])
        assert loop_path[0] == "ISA_LOOP"
    assert all(name for name in loops(tree).values())
    json.loads(render(tree, "json"))
    assert render(tree, "table").count("\n") + 1 == len(rows(tree))


@needs_samples
def test_an_837p_shows_hl_loops_with_names_and_named_elements():
    tree = tree_of(sample("837P", "lfh__demo.example1.837"))
    names = loops(tree)
    assert names["2010BA"] == "Subscriber Name"
    assert names["2000C"] == "Patient Hierarchical Level"
    assert names["2400"] == "Service Line Number"
    placed = list(all_segments(tree))
    (sub,) = [n for p, n in placed if p[-1] == "2010BA" and n["segment"] == "NM1"]
    assert sub["position"] == 19
    assert sub["name"] == "Subscriber Name"
    assert element(sub, "NM103") == {
        "id": "NM103",
        "name": "Subscriber Last Name",
        "value": "SMITH",
    }
    lines = [p for p, n in placed if n["segment"] == "SV1"]
    assert len(lines) == 4 and all(p[-2:] == ("2300", "2400") for p in lines)
    clm = next(n for _, n in placed if n["segment"] == "CLM")
    facility = element(clm, "CLM05")
    assert [c["id"] for c in facility["components"]] == ["CLM05-1", "CLM05-2", "CLM05-3"]
    assert facility["components"][0]["name"] == "Place of Service Code"


@needs_samples
def test_an_837i_with_the_a3_label_is_named_from_the_a2_map():
    tree = tree_of(sample("837I", "lfh__two-claims-single-provider.837i"))
    names = loops(tree)
    assert names["2310A"] == "Attending Provider Name"
    placed = [n["segment"] for p, n in all_segments(tree) if p[-1] == "2400"]
    assert placed.count("SV2") == 3


@needs_samples
def test_an_835_shows_claims_and_service_lines_in_their_loops():
    tree = tree_of(sample("835", "lfh__secondary-payment.835"))
    names = loops(tree)
    assert names["2100"] == "Claim Payment Information"
    assert names["2110"] == "Service Payment Information"
    svc = [p for p, n in all_segments(tree) if n["segment"] == "SVC"]
    assert svc == [("ISA_LOOP", "GS_LOOP", "ST_LOOP", "2000", "2100", "2110")] * 2


@needs_samples
def test_a_999_shows_its_codes_in_words():
    tree = tree_of(sample("999", "ims__x12_999_rejected.txt"))
    placed = {n["segment"]: (p, n) for p, n in all_segments(tree)}
    path, ik3 = placed["IK3"]
    assert path[-2:] == ("2000", "2100")
    assert element(ik3, "IK304")["meaning"] == "segment ID not recognized"
    assert element(placed["IK5"][1], "IK502")["meaning"] == "one or more segments are in error"
    assert element(placed["AK9"][1], "AK901")["meaning"] == "rejected"


@needs_samples
def test_a_277ca_shows_the_claim_level_and_its_status_in_words():
    tree = tree_of(sample("277CA", "ims__x12_277CA_rejected.txt"))
    placed = [(p, n) for p, n in all_segments(tree) if n["segment"] == "STC"]
    path, stc = placed[-1]
    assert path[-2:] == ("2000D", "2200D")
    assert loops(tree)["2200D"] == "Claim Status Tracking Number"
    parts = element(stc, "STC01")["components"]
    assert [(c["id"], c["value"], c.get("meaning")) for c in parts] == [
        ("STC01-1", "A7", "rejected for invalid information"),
        ("STC01-2", "562", "the entity's National Provider Identifier (NPI)"),
        ("STC01-3", "85", "billing provider"),
    ]


@needs_samples
@pytest.mark.parametrize(
    ("folder", "name", "expected"),
    [
        (
            "270",
            "lfh__dependent-health-benefit-check.270",
            {
                "2000D": "Dependent Level",
                "2100D": "Dependent Name",
                "2110D": "Dependent Eligibility or Benefit Inquiry",
            },
        ),
        (
            "271",
            "lfh__demo.271",
            {
                "2100C": "Subscriber Name",
                "2110C": "Subscriber Eligibility or Benefit Information",
                "2120C": "Subscriber Benefit Related Entity Name",
            },
        ),
        (
            "276",
            "lfh__demo.276",
            {
                "2000D": "Subscriber Level",
                "2200D": "Claim Status Tracking Number",
                "2210E": "Service Line Information",
            },
        ),
        (
            "277",
            "lfh__claim-level-status.277",
            {
                "2100C": "Service Provider Name",
                "2200E": "Claim Status Tracking Number",
                "2220E": "Service Line Information",
            },
        ),
    ],
)
def test_transactions_pyx12_cannot_map_are_named_from_our_own_tables(folder, name, expected):
    names = loops(tree_of(sample(folder, name)))
    for loop_id, loop_name in expected.items():
        assert names[loop_id] == loop_name


@needs_samples
def test_each_eligibility_benefit_starts_its_own_loop():
    tree = tree_of(sample("271", "lfh__demo.271"))
    benefit_loops = [p for p, n in all_segments(tree) if n["segment"] == "EB"]
    assert len(benefit_loops) == 5
    counts = sum(1 for _ in rows(tree) if _["kind"] == "loop" and _["id"] == "2110C")
    assert counts == 5


def test_a_ta1_file_shows_the_acknowledgment_in_words():
    isa = (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*PRACTICE01     "
        "*240102*1200*^*00501*000000777*0*T*:"
    )
    tree = build_tree(f"{isa}~TA1*000000905*240101*1159*R*022~IEA*0*000000777~")
    assert tree["transactions"] == ["TA1"]
    ta1 = next(n for _, n in all_segments(tree) if n["segment"] == "TA1")
    assert ta1["name"] == "Interchange Acknowledgment"
    assert element(ta1, "TA104")["meaning"] == "interchange rejected because of errors"
    assert element(ta1, "TA105")["meaning"] == "the control structure is not valid"


@needs_samples
def test_envelope_problems_are_listed_and_the_file_is_still_shown():
    tree = tree_of(sample("837P", "ims__x12_valid.txt"))
    assert tree["problems"] == [
        "segment 36 (SE): SE count wrong: SE01 says 25 segments, the transaction set that "
        "began at segment 3 has 34"
    ]
    assert tree["segments"] == 38


@needs_samples
def test_unusual_delimiters_show_the_same_tree():
    original = sample("837P", "lfh__demo.example1.837").read_text()
    weird = "\ufeff" + original.translate(
        str.maketrans({"*": "|", ":": "}", "^": "!", "~": "'"})
    ).replace("'\n", "'\r\n")
    a, b = build_tree(weird), build_tree(original)
    strip = lambda t: [(p, n["segment"], n["position"]) for p, n in all_segments(t)]  # noqa: E731
    assert strip(a) == strip(b)


def test_a_file_that_is_not_x12_is_an_error():
    with pytest.raises(X12Error, match="does not start with an ISA"):
        build_tree("hello")


# --- the command -------------------------------------------------------------------------
@needs_samples
def test_show_json_prints_a_tree_with_loops_and_segments():
    result = run_cli(
        ["x12", "show", str(sample("277CA", "ims__x12_277CA_accepted.txt")), "--format", "json"]
    )
    assert result.exit_code == 0
    tree = json.loads(result.stdout)
    assert tree["transactions"] == ["277CA"]
    assert loops(tree)["2100D"] == "Patient Name"
    assert {n["segment"] for _, n in all_segments(tree)} >= {"ISA", "HL", "TRN", "STC", "IEA"}


@needs_samples
def test_show_table_is_an_indented_table_of_loops_segments_and_elements():
    result = run_cli(["x12", "show", str(sample("837P", "lfh__demo.example1.837"))])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ISA_LOOP", "Interchange", "Control", "Header"]
    sub = next(i for i, line in enumerate(lines) if line.strip().startswith("2010BA"))
    assert "Subscriber Name" in lines[sub]
    nm1 = lines[sub + 1]
    assert nm1.split()[:2] == ["19", "NM1"]
    # The segment is indented under its loop, the element under its segment.
    last_name = next(line for line in lines[sub:] if "NM103" in line)
    assert lines[sub].index("2010BA") < nm1.index("NM1") < last_name.index("NM103")
    assert "Subscriber Last Name" in last_name and last_name.rstrip().endswith("SMITH")


@needs_samples
def test_show_honours_the_global_format_and_its_own_option_wins():
    path = str(sample("999", "ims__x12_999_rejected.txt"))
    as_json = run_cli(["--format", "json", "x12", "show", path])
    assert json.loads(as_json.stdout)["transactions"] == ["999"]
    own_wins = run_cli(["--format", "json", "x12", "show", path, "--format", "table"])
    assert own_wins.stdout.lstrip().startswith("ISA_LOOP")
    jsonl = run_cli(["--format", "jsonl", "x12", "show", path])
    first = json.loads(jsonl.stdout.splitlines()[1])
    assert (first["kind"], first["id"], first["position"]) == ("segment", "ISA", 1)
    table = list(
        csv.DictReader(io.StringIO(run_cli(["--format", "csv", "x12", "show", path]).stdout))
    )
    ik304 = next(r for r in table if r["id"] == "IK304")
    assert ik304["value"] == "1 (segment ID not recognized)" and ik304["loop"] == "2100"


@needs_samples
def test_show_warns_about_envelope_problems_on_stderr():
    result = run_cli(["x12", "show", str(sample("999", "ims__x12_999_accepted.txt"))])
    assert result.exit_code == 0
    assert "warning: segment 10 (IEA): IEA02 000000001 does not match ISA13" in result.stderr


def test_show_of_a_file_that_is_not_x12_exits_1(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Dear provider")
    result = run_cli(["x12", "show", str(path)])
    assert result.exit_code == 1
    assert "does not start with an ISA segment" in result.stderr


@needs_samples
def test_show_logs_nothing(caplog):
    caplog.set_level(logging.DEBUG)
    result = run_cli(
        ["x12", "show", str(sample("837P", "lfh__demo.cob.example3.A.837")), "--format", "json"]
    )
    assert result.exit_code == 0
    assert caplog.records == []
