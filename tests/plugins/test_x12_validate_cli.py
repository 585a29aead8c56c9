"""`pms x12 validate`: our envelope checks, 837/835 balancing in exact cents,
and pyx12 where it has a map; exit 1 when any file is invalid; findings name
positions and never carry an element's value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pms_x12.validate import Finding, ValidationReport, redact, validate_file, validate_text

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

# Samples with no envelope, balancing or pyx12 finding.
VALID = {
    "lfh__demo.270",
    "lfh__dependent-health-benefit-check.270",
    "lfh__demo.271",
    "lfh__dependent-health-benefit-check.271",
    "lfh__demo.276",
    "lfh__provider-level-status.276",
    "lfh__claim-level-status.277",
    "lfh__demo.277",
    "ims__x12_999_rejected.txt",
}


def sample_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for folder in FOLDERS for p in (SAMPLES / folder).glob("*") if p.is_file())


def sample_text(folder: str, name: str) -> str:
    return (SAMPLES / folder / name).read_text()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def relabelled_837p(text: str) -> str:
    """The lfh__ samples carry the A2 label pyx12 has no map for (see the samples'
    README); the same content under the A1 label is what pyx12 validates."""
    return text.replace("005010X222A2", "005010X222A1")


# --- every sample ----------------------------------------------------------------------
@needs_samples
@pytest.mark.parametrize("path", sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_validates_with_its_known_verdict(path):
    result = run_cli(["x12", "validate", str(path)])
    valid = path.name in VALID
    assert result.exit_code == (0 if valid else 1)
    first = result.stdout.splitlines()[0]
    assert first == f"{path}: {'valid' if valid else 'INVALID'}"
    if not valid:
        assert result.stdout.splitlines()[1].startswith("  ")
        assert "file(s) invalid" in result.stderr


@needs_samples
def test_the_sample_835s_balance_by_the_x12_rules():
    for path in sorted((SAMPLES / "835").glob("*.835")):
        report = validate_file(path)
        assert not [f for f in report.findings if f.code in ("balance", "amount")], path.name


@needs_samples
def test_the_known_envelope_defects_of_the_samples_are_found_by_our_own_checks():
    expected = {
        ("999", "ims__x12_999_accepted.txt"): "line 10 IEA:02: [envelope] IEA02 000000001 "
        "does not match ISA13 000000286 (segment 1)",
        ("271", "lfh__subscriber-health-benefit-check-error.271"): "line 10 SE:02: "
        "[envelope] SE02 4323 does not match ST02 4321 (segment 3)",
        ("837P", "ims__x12_valid.txt"): "line 36 SE:01: [envelope] SE count wrong: SE01 "
        "says 25 segments, the transaction set that began at segment 3 has 34",
    }
    for (folder, name), line in expected.items():
        report = validate_file(SAMPLES / folder / name)
        assert str(report.findings[0]) == line
        # pyx12 reports the same defect; it is listed once.
        assert sum(1 for f in report.findings if f.line == report.findings[0].line) == 1


# --- 837 balancing -------------------------------------------------------------------------
@needs_samples
def test_an_837p_whose_claim_total_is_not_the_sum_of_its_lines_is_invalid(tmp_path):
    text = relabelled_837p(sample_text("837P", "lfh__demo.example1.837"))
    good = write(tmp_path, "good.837", text)
    assert run_cli(["x12", "validate", str(good)]).exit_code == 0
    bad = write(tmp_path, "bad.837", text.replace("CLM*26463774*100.00*", "CLM*26463774*100.01*"))
    result = run_cli(["x12", "validate", str(bad)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        "  line 27 CLM:02: [balance] claim total (CLM02) does not equal the sum of its 4 "
        "service line charge(s) (SV102)"
    ]
    for value in ("100.01", "100.00", "26463774", "SMITH", "JS00111223333"):
        assert value not in result.stdout + result.stderr


@needs_samples
def test_an_837i_checks_its_claim_total_against_sv203():
    text = sample_text("837I", "lfh__two-claims-single-provider.837i")
    report = validate_text(text)
    assert not [f for f in report.findings if f.code == "balance"]
    clm = next(s for s in text.split("~") if s.strip().startswith("CLM*")).strip()
    total = clm.split("*")[2]
    changed = text.replace(clm, clm.replace(f"*{total}*", "*1.00*", 1))
    findings = [f for f in validate_text(changed).findings if f.code == "balance"]
    assert [(f.segment, f.line, f.element) for f in findings] == [("CLM", 21, "02")]
    assert "(SV203)" in findings[0].message


def test_an_837_amount_that_is_not_a_number_is_a_finding_without_the_value():
    text = relabelled_837p(
        _synthetic_837(["CLM*PAT1*12X.00***11:B:1*Y*A*Y*Y", "LX*1", "SV1*HC:99213*120.00*UN*1***1"])
    )
    findings = validate_text(text).findings
    amount = [f for f in findings if f.code == "amount"]
    assert [(f.segment, f.element, f.message) for f in amount] == [
        ("CLM", "02", "CLM02 is not a valid amount")
    ]
    assert all("12X" not in str(f) for f in findings)


def _synthetic_837(claim: list[str]) -> str:
    isa = (
        "ISA*00*          *00*          *ZZ*PRACTICE01     *ZZ*CLEARINGHOUSE  "
        "*240102*1200*^*00501*000000001*0*T*:"
    )
    body = [
        "BHT*0019*00*1*20240102*1200*CH",
        "HL*1**20*1",
        "HL*2*1*22*0",
        *claim,
    ]
    segs = [
        isa,
        "GS*HC*PRACTICE01*CLEARINGHOUSE*20240102*1200*1*X*005010X222A1",
        "ST*837*0001*005010X222A1",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return "~\n".join(segs) + "~\n"


# --- 835 balancing -------------------------------------------------------------------------
@needs_samples
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "SVC*HC:99211*800.00*500.00",
            "SVC*HC:99211*800.00*510.00",
            [
                "line 16 SVC: [balance] service line does not balance: SVC02 minus its "
                "adjustments (CAS) does not equal SVC03"
            ],
        ),
        (
            "CAS*CO*A2*55.00",
            "CAS*CO*A2*65.00",
            [
                "line 20 CLP: [balance] claim does not balance: CLP03 minus the claim and "
                "service line adjustments (CAS) does not equal CLP04"
            ],
        ),
        (
            "BPR*I*945.00",
            "BPR*I*954.00",
            [
                "line 4 BPR:02: [balance] payment does not balance: BPR02 does not equal the "
                "sum of the claim payments (CLP04) minus the provider adjustments (PLB)"
            ],
        ),
        (
            "CLP*5554555444*1*800.00*450.00",
            "CLP*5554555444*1*800.00*440.00",
            [
                "line 4 BPR:02: [balance] payment does not balance: BPR02 does not equal the "
                "sum of the claim payments (CLP04) minus the provider adjustments (PLB)",
                "line 13 CLP: [balance] claim does not balance: CLP03 minus the claim and "
                "service line adjustments (CAS) does not equal CLP04",
            ],
        ),
    ],
)
def test_an_unbalanced_835_is_invalid_at_the_segment_that_does_not_balance(
    tmp_path, old, new, expected
):
    text = sample_text("835", "lfh__managed-care.835")
    assert old in text
    path = write(tmp_path, "era.835", text.replace(old, new))
    result = run_cli(["x12", "validate", str(path)])
    assert result.exit_code == 1
    found = [line.strip() for line in result.stdout.splitlines() if "[balance]" in line]
    assert found == expected
    for value in ("510.00", "65.00", "954.00", "440.00", "BUDD", "33344555510"):
        assert value not in result.stdout


@needs_samples
def test_an_835_provider_level_adjustment_counts_against_the_payment():
    text = sample_text("835", "lfh__demo.835")
    assert "PLB*" in text
    assert not [f for f in validate_text(text).findings if f.code == "balance"]
    plb = next(s for s in text.split("~") if s.strip().startswith("PLB*")).strip()
    parts = plb.split("*")
    parts[4] = "1" + parts[4].lstrip("-")  # a different adjustment amount
    findings = validate_text(text.replace(plb, "*".join(parts))).findings
    assert [(f.segment, f.code) for f in findings if f.code == "balance"] == [("BPR", "balance")]


# --- envelope errors and the command --------------------------------------------------------
def test_a_truncated_file_is_invalid_naming_where_it_ends(tmp_path):
    text = _synthetic_837(
        ["CLM*PAT1*120.00***11:B:1*Y*A*Y*Y", "LX*1", "SV1*HC:99213*120.00*UN*1***1"]
    )
    path = write(tmp_path, "cut.837", text[: text.index("LX*1") + 2])
    result = run_cli(["x12", "validate", str(path)])
    assert result.exit_code == 1
    assert "[syntax] the file ends inside segment 8: it has no segment terminator" in result.stdout
    assert "SE missing (truncated?)" in result.stdout
    assert "without the IEA of the interchange that began at segment 1" in result.stdout


def test_a_file_that_is_not_x12_is_invalid_without_running_pyx12(tmp_path):
    path = write(tmp_path, "note.txt", "Dear provider, Jane Doe's claim was received.")
    result = run_cli(["x12", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == (
        "  line 1 file: [syntax] the file does not start with an ISA segment "
        "(not an X12 interchange)"
    )
    assert "Jane" not in result.stdout


@needs_samples
def test_several_files_exit_1_when_any_is_invalid(tmp_path):
    good = write(
        tmp_path, "good.837", relabelled_837p(sample_text("837P", "lfh__demo.example1.837"))
    )
    bad = SAMPLES / "999" / "ims__x12_999_accepted.txt"
    result = run_cli(["x12", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{good}: valid" in result.stdout and f"{bad}: INVALID" in result.stdout
    assert "1 of 2 file(s) invalid" in result.stderr


@needs_samples
def test_validate_text_and_validate_file_give_the_same_report():
    path = SAMPLES / "837P" / "ims__x12_bad_valid_code.txt"
    by_file = validate_file(path)
    by_text = validate_text(path.read_text(), str(path))
    assert isinstance(by_file, ValidationReport)
    assert by_file == by_text
    assert not by_file.valid
    assert all(isinstance(f, Finding) for f in by_file.findings)


def test_redact_removes_values_pyx12_puts_in_messages():
    assert redact("Data element 'Zip' (N403) contains an invalid date (19730501)") == (
        "Data element '…' (N403) contains an invalid date (…)"
    )
    assert redact('Data element "Postal Code" with a value of (20705) failed') == (
        "Data element '…' with a value of (…) failed"
    )
    assert redact("(DOE) is not a valid code for Name (NM103)") == (
        "value is not a valid code for Name (NM103)"
    )
    assert redact("Segment NM1|IL|1|DOE|JOHN not found.  Started at /2000B") == (
        "Segment NM1 not found.  Started at /2000B"
    )
    assert redact("Syntax Error (P0809): If NM108 is present (AB12345XY), then") == (
        "Syntax Error (P0809): If NM108 is present (…), then"
    )
