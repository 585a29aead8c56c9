"""`pms x12 validate`: pyx12 as the judge, findings located and free of PHI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

# The public samples live in shared/ beside the checkout (PMS_X12_SAMPLES overrides).
SAMPLES = (
    Path(
        os.environ.get(
            "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
        )
    )
    / "837P"
)
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"X12 samples not found at {SAMPLES}")


def relabelled(tmp_path: Path, name: str) -> Path:
    """The lfh__ samples carry the A2 label pyx12 has no map for (see the samples'
    README); the same content under the A1 label is what we validate."""
    out = tmp_path / name
    out.write_text((SAMPLES / name).read_text().replace("005010X222A2", "005010X222A1"))
    return out


def test_valid_837p_passes(tmp_path):
    result = run_cli(["x12", "validate", str(relabelled(tmp_path, "lfh__demo.example1.837"))])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("valid")


def test_invalid_837p_is_reported_by_line_and_segment_without_values():
    bad = SAMPLES / "ims__x12_bad_valid_code.txt"
    result = run_cli(["x12", "validate", str(bad)])
    assert result.exit_code == 1
    assert "INVALID" in result.stdout
    assert "line 23 HI:02-1" in result.stdout  # where the bad diagnosis qualifier is
    assert "SE count" in result.stdout
    # Element values stay out of the report: the file's street address and codes.
    for value in ("CALVERTON", "3901", "8901", "87200"):
        assert value not in result.stdout


def test_unsupported_version_label_is_a_finding_not_a_crash():
    result = run_cli(["x12", "validate", str(SAMPLES / "lfh__demo.example1.837")])
    assert result.exit_code == 1
    assert "[map]" in result.stdout
