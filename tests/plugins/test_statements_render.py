"""The statement renderers on their own: a formula in any text cell is
neutralized in the CSV, and the PDF has a page per statement."""

from __future__ import annotations

import csv
import io

from pms_statements.render import CsvRenderer, PdfRenderer
from pypdf import PdfReader

from pms_core.statements import StatementLine, StatementView


def view(statement_id: int, name: str) -> StatementView:
    return StatementView(
        statement_id=statement_id, statement_date="2026-03-02", due_date="2026-04-01",
        practice_name="Synthetic Clinic", practice_address=["1 Test Way", "Springfield, IL 62701"],
        practice_phone="2175550100", account_number="P0000042", patient_name=name,
        mail_to=[name, "=HYPERLINK(\"x\")", "Springfield, IL 62701"],
        lines=[StatementLine("2026-02-20", "@SUM(A1)", 12500, 8000, 2500, 0, 2000)],
        aging={"0-30": 2000, "31-60": 0, "61-90": 0, "91-120": 0, "120+": 0},
        balance_cents=2000,
    )  # fmt: skip


def test_csv_text_that_looks_like_a_formula_is_neutralized():
    rows = list(csv.DictReader(io.StringIO(CsvRenderer().render([view(1, "+Ana Test")]).decode())))
    (row,) = rows
    assert row["mail_name"] == "'+Ana Test"
    assert row["mail_line2"] == '\'=HYPERLINK("x")'
    assert row["description"] == "'@SUM(A1)"
    assert (row["charge"], row["line_balance"]) == ("125.00", "20.00")


def test_the_pdf_has_a_page_per_statement():
    pdf = PdfReader(io.BytesIO(PdfRenderer().render([view(1, "Ana Test"), view(2, "Ben Test")])))
    assert len(pdf.pages) == 2
    assert "Ben Test" in pdf.pages[1].extract_text()
