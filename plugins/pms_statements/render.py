"""Statements printed: one PDF with a page per statement (fpdf2), and one CSV
row per statement line for print-and-mail vendors.

Text that a spreadsheet could run as a formula (starting with =, +, -, @) is
neutralized in the CSV; amounts are plain decimals.
"""

from __future__ import annotations

import csv
import io

from pms_core.money import Money
from pms_core.reports import neutralize
from pms_core.statements import AGING_BUCKETS, StatementView


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula (None as empty)."""
    return "" if value is None else neutralize(value)


def _money(cents: int) -> str:
    return str(Money(cents))


class CsvRenderer:
    name = "csv"
    extension = "csv"

    def render(self, statements: list[StatementView]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["statement_id", "statement_date", "due_date", "account_number", "mail_name",
             "mail_line2", "mail_line3", "mail_line4", "service_date", "description", "charge",
             "insurance_paid", "adjusted", "patient_paid", "line_balance", "statement_balance",
             *(f"aging_{b}" for b in AGING_BUCKETS)]
        )  # fmt: skip
        for s in statements:
            mail = (s.mail_to + ["", "", "", ""])[:4]
            for line in s.lines:
                writer.writerow(
                    [_cell(v) for v in (
                        s.statement_id, s.statement_date, s.due_date, s.account_number, *mail,
                        line.service_date or "", line.description,
                    )]
                    + [_money(c) for c in (
                        line.charge_cents, line.insurance_paid_cents, line.adjusted_cents,
                        line.patient_paid_cents, line.balance_cents, s.balance_cents,
                    )]
                    + [_money(s.aging[b]) for b in AGING_BUCKETS]
                )  # fmt: skip
        return out.getvalue().encode("utf-8")


class PdfRenderer:
    name = "pdf"
    extension = "pdf"

    def render(self, statements: list[StatementView]) -> bytes:
        from fpdf import FPDF

        pdf = FPDF(format="Letter", unit="pt")
        pdf.set_auto_page_break(auto=True, margin=54)
        for s in statements:
            self._page(pdf, s)
        return bytes(pdf.output())

    @staticmethod
    def _text(value: str) -> str:
        return value.encode("latin-1", "replace").decode("latin-1")  # the core PDF fonts

    def _page(self, pdf, s: StatementView) -> None:
        t = self._text
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 18, t(s.practice_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for line in [*s.practice_address, s.practice_phone or ""]:
            pdf.cell(0, 13, t(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 16, "Statement", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for label, value in (
            ("Statement date", s.statement_date),
            ("Account", s.account_number),
            ("Please pay by", s.due_date),
            ("Amount due", _money(s.balance_cents)),
        ):
            pdf.cell(110, 13, label)
            pdf.cell(0, 13, t(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)
        for line in s.mail_to:
            pdf.cell(0, 13, t(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(12)
        widths = (70, 150, 60, 60, 60, 60, 60)
        heads = ("Date", "Description", "Charge", "Ins. paid", "Adjusted", "You paid", "Balance")
        pdf.set_font("Helvetica", "B", 9)
        for w, h in zip(widths, heads, strict=True):
            pdf.cell(w, 14, h, border="B", align="L" if w > 60 else "R")
        pdf.ln(14)
        pdf.set_font("Helvetica", "", 9)
        for line in s.lines:
            cells = (
                line.service_date or "",
                line.description,
                _money(line.charge_cents),
                _money(line.insurance_paid_cents),
                _money(line.adjusted_cents),
                _money(line.patient_paid_cents),
                _money(line.balance_cents),
            )
            for w, value in zip(widths, cells, strict=True):
                pdf.cell(w, 13, t(value), align="L" if w > 60 else "R")
            pdf.ln(13)
        pdf.ln(10)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 13, "Balance by age of service (days)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for bucket in AGING_BUCKETS:
            pdf.cell(80, 13, f"{bucket}: {_money(s.aging[bucket])}")
        pdf.ln(16)
        if s.credit_cents:
            pdf.cell(0, 13, f"Credit on your account: {_money(s.credit_cents)}",
                     new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        if s.message:
            pdf.multi_cell(0, 13, t(s.message))
