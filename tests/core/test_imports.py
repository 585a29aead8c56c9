"""Imports (services.imports and the built-in importers), on SQLite and
PostgreSQL: a file is checked whole, reported row by row without its values,
applied all or nothing, and importing it again changes nothing."""

from __future__ import annotations

import codecs
import json
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from pms_core import ledger
from pms_core.errors import PermissionDenied, ValidationError
from pms_core.ledger import Account
from pms_core.models import (
    Appointment,
    AuditEvent,
    Coverage,
    JournalEntry,
    Patient,
    Payer,
    Provider,
)
from pms_core.models.schedule import AppointmentType
from pms_core.money import Money
from pms_core.services import imports, periods

HEADER = "Acct,First Name,Last Name,DOB,Gender,Address,City,State,Zip,Cell,Email"
ROWS = [
    "A100,Dana,Quill,1980-04-02,Female,1 Elm St,Springfield,il,62701,(217) 555-0101,dq@example.org",
    "A101,Evan,Rook,03/15/1975,M,2 Oak Ave,Springfield,IL,62702,,",
    "A102,Fay,Sable,19911130,F,3 Ash Rd,Boston,MA,2134,217-555-0103,",
]


def write_csv(path: Path, lines: list[str], *, encoding: str = "utf-8", sep: str = ",") -> Path:
    text = "\r\n".join(line.replace(",", sep) for line in lines) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def run(uow, path, kind="patients", role="admin", **options):
    with uow(role) as ctx:
        return imports.run_import(ctx, kind=kind, path=path, **options)


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def patient(engine, account: str):
    with engine.connect() as conn:
        return conn.execute(select(Patient).where(Patient.account_number == account)).first()


@pytest.fixture
def patients_csv(tmp_path):
    return write_csv(tmp_path / "patients.csv", [HEADER, *ROWS])


# --- patients ----------------------------------------------------------------------
def test_a_dry_run_reports_what_would_happen_and_writes_nothing(uow, engine, patients_csv):
    report = run(uow, patients_csv, dry_run=True)

    assert report.ok and not report.applied
    assert (report.rows, report.plan.new, report.plan.updated) == (3, 3, 0)
    assert report.ignored_columns == []
    assert count(engine, Patient) == 0


def test_patients_are_imported_with_headers_mapped_and_values_normalized(uow, engine, patients_csv):
    report = run(uow, patients_csv)

    assert report.applied and report.plan.new == 3
    dana = patient(engine, "A100")
    assert (dana.first_name, dana.dob, dana.sex, dana.state) == (
        "Dana",
        date(1980, 4, 2),
        "F",
        "IL",
    )
    assert (dana.mobile_phone, dana.preferred_contact, dana.search_last) == (
        "2175550101",
        "sms",
        "quill",
    )
    assert patient(engine, "A101").dob == date(1975, 3, 15)
    assert patient(engine, "A101").preferred_contact == "mail"  # no phone or email on file
    fay = patient(engine, "A102")
    assert (fay.dob, fay.zip) == (date(1991, 11, 30), "02134")  # a spreadsheet ate the zero
    with uow() as ctx:
        runs = imports.list_runs(ctx)
    assert [(r.kind, r.rows, r.added) for r in runs] == [("patients", 3, 3)]


def test_importing_the_same_file_again_changes_nothing(uow, engine, patients_csv):
    first = run(uow, patients_csv)
    again = run(uow, patients_csv)

    assert again.applied and (again.plan.new, again.plan.updated, again.plan.unchanged) == (0, 0, 3)
    assert again.imported_before is not None and first.imported_before is None
    assert count(engine, Patient) == 3


def test_a_changed_file_updates_the_changed_rows_and_keeps_what_it_lacks(uow, engine, tmp_path):
    run(uow, write_csv(tmp_path / "a.csv", [HEADER, *ROWS]))
    moved = ROWS[0].replace("1 Elm St,Springfield,il,62701", "9 Lake Rd,Peoria,IL,61602")
    header = HEADER.removesuffix(",Email")  # the new file has no email column
    lines = [header, moved.rsplit(",", 1)[0], ROWS[1].rsplit(",", 1)[0]]
    report = run(uow, write_csv(tmp_path / "b.csv", lines))

    assert (report.plan.new, report.plan.updated, report.plan.unchanged) == (0, 1, 1)
    dana = patient(engine, "A100")
    assert (dana.city, dana.zip, dana.email) == ("Peoria", "61602", "dq@example.org")


def test_every_bad_row_is_reported_by_row_and_column_without_values_and_nothing_is_written(
    uow, engine, tmp_path
):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            HEADER,
            ROWS[0],
            "A201,Gil,Tarn,02/30/1990,F,4 Pine St,Springfield,IL,62701,,",  # no 30 February
            "A202,Hal,Umber,1985-01-01,X,5 Fir St,Springfield,ZZ,62701,,hal@",
            "A203,,Vane,1985-01-01,F,,Springfield,IL,62701,,",
            "A100,Dana,Quill,1980-04-02,F,1 Elm St,Springfield,IL,62701,,",  # same account
            "A204,Ida,Wren,4/5/85,F,6 Yew St,Springfield,IL,62701,,",
        ],
    )
    report = run(uow, path)

    assert not report.applied and count(engine, Patient) == 0
    got = {(e.row, e.column, e.code) for e in report.errors}
    assert got == {
        (3, "DOB", "date"),
        (4, "Gender", "choice"),
        (4, "State", "state"),
        (4, "Email", "email"),
        (5, "First Name", "required"),
        (5, "Address", "required"),
        (6, "Acct", "duplicate_in_file"),
        (7, "DOB", "two_digit_year"),
    }
    assert report.rows_with_errors == 5 and report.error_count == 8
    assert report.error_counts[("DOB", "date")] == 1
    messages = " ".join(e.message for e in report.errors)
    for value in ("Gil", "Tarn", "Umber", "hal@", "ZZ", "02/30/1990", "4/5/85"):
        assert value not in messages


def test_a_file_without_a_required_column_is_refused_before_any_row(uow, tmp_path):
    path = write_csv(tmp_path / "p.csv", ["Acct,First Name,Last Name", "A1,Dana,Quill"])
    with pytest.raises(ValidationError) as caught:
        run(uow, path)
    assert {e.field for e in caught.value.errors} == {
        "dob",
        "sex",
        "address1",
        "city",
        "state",
        "zip",
    }
    assert {e.code for e in caught.value.errors} == {"missing_column"}


def test_a_mapping_file_names_columns_the_automatic_mapping_does_not_know(uow, engine, tmp_path):
    header = "PatNo,Given,Family,Born,Sx,Street,Town,St,Postcode,Legacy Flag"
    path = write_csv(
        tmp_path / "old.csv",
        [header, "Z9,Kim,Lark,1970-07-07,F,7 Bay Rd,Springfield,IL,62701,yes"],
    )
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "column,field\nPatNo,account_number\nGiven,first_name\nFamily,last_name\nBorn,dob\n"
        "Sx,sex\nStreet,address1\nTown,city\nSt,state\nPostcode,zip\nLegacy Flag,\n"
    )
    report = run(uow, path, mapping=imports.read_mapping(mapping))

    assert report.applied and patient(engine, "Z9").last_name == "Lark"
    assert report.ignored_columns == ["Legacy Flag"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"PatNo": "account_number", "Nope": "first_name", "Given": "nickname"}')
    with pytest.raises(ValidationError) as caught:
        run(uow, path, mapping=imports.read_mapping(bad))
    assert {(e.field, e.code) for e in caught.value.errors} >= {
        ("map: Nope", "not_in_file"),
        ("map: Given", "unknown_column"),
    }


def test_a_possible_duplicate_patient_waits_for_a_person_to_decide(uow, engine, tmp_path):
    run(uow, write_csv(tmp_path / "a.csv", [HEADER, ROWS[0]]))
    dana_id = patient(engine, "A100").id
    again = write_csv(
        tmp_path / "b.csv",
        [
            HEADER,
            "B500,DANA,quill,1980-04-02,F,9 New St,Springfield,IL,62701,,",
            "B501,Jo,Moss,1990-01-01,F,1 Elm St,Springfield,IL,62701,,",
            "B502,Jo,Moss,1990-01-01,F,1 Elm St,Springfield,IL,62701,,",
        ],
    )
    report = run(uow, again)

    assert report.ok and not report.applied and count(engine, Patient) == 1
    assert [(d.row, d.patient_ids, d.same_as_row) for d in report.plan.duplicates] == [
        (2, (dana_id,), None),
        (4, (), 3),
    ]
    decided = run(uow, again, allow_duplicates=True)
    assert decided.applied and count(engine, Patient) == 4


def test_only_an_admin_may_import(uow, patients_csv):
    with pytest.raises(PermissionDenied):
        run(uow, patients_csv, role="biller")


def test_the_import_is_audited_by_kind_and_counts_without_phi(uow, engine, patients_csv):
    run(uow, patients_csv, dry_run=True)
    run(uow, patients_csv)
    with engine.connect() as conn:
        events = conn.execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.action.like("import.%"))
            .order_by(AuditEvent.seq)
        ).all()
    assert [a for a, _ in events] == ["import.check", "import.patients"]
    detail = json.loads(events[1][1])
    assert (detail["new"], detail["applied"], detail["kind"]) == (3, True, "patients")
    for value in ("Quill", "Dana", "1980-04-02", "A100", "2175550101"):
        assert all(value not in detail for _, detail in events)


# --- file formats -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("cp1252", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-8", "|")],
)
def test_csv_in_any_common_encoding_and_delimiter(uow, engine, tmp_path, encoding, sep):
    path = write_csv(
        tmp_path / "p.csv",
        [HEADER, "A300,Zoë,Müller,1966-06-06,F,8 Rue Été,Springfield,IL,62701,,"],
        encoding=encoding,
        sep=sep,
    )
    assert run(uow, path).applied
    assert (patient(engine, "A300").first_name, patient(engine, "A300").last_name) == (
        "Zoë",
        "Müller",
    )


def test_a_file_that_is_not_text_is_refused_with_the_reason(uow, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(codecs.BOM_UTF16_LE[:0] + HEADER.encode("utf-16-le"))  # no byte-order mark
    with pytest.raises(ValidationError) as caught:
        run(uow, path)
    assert caught.value.errors[0].code == "encoding"
    renamed = tmp_path / "p.xlsx"
    renamed.write_text(HEADER)
    with pytest.raises(ValidationError) as caught:
        run(uow, renamed)
    assert caught.value.errors[0].code == "format"


def test_xlsx_dates_serial_numbers_and_numbers_read_as_the_office_typed_them(uow, engine, tmp_path):
    rows = [
        ["Account", "First", "Last", "Date of Birth", "Sex", "Street", "City", "State", "Zip"],
        [1001, "Lee", "Marsh", datetime(1970, 1, 2), "M", "1 A St", "Springfield", "IL", 62701],
        ["1002", "Mia", "North", 25569, "F", "2 B St", "Springfield", "IL", "02134"],  # serial
        ["1003", "Ned", "Orr", "1999-12-31", "M", "3 C St", "Springfield", "IL", 2134.0],
    ]
    report = run(uow, write_xlsx(tmp_path / "p.xlsx", rows))

    assert report.applied, report.errors
    assert patient(engine, "1001").dob == date(1970, 1, 2)
    assert patient(engine, "1002").dob == date(1970, 1, 1)  # Excel day 25569
    assert patient(engine, "1003").zip == "02134"


def test_xlsx_formulas_are_read_as_their_computed_values(uow, engine, tmp_path):
    path = write_xlsx(
        tmp_path / "f.xlsx",
        [
            ["Acct", "First", "Last", "DOB", "Sex", "Address", "City", "State", "Zip"],
            ["F1", "Pat", '=UPPER("lowe")', "1960-05-05", "F", "1 A St", "Springfield", "IL",
             "62701"],
        ],
    )  # fmt: skip
    _cache_formula_value(path, "C2", "LOWE")

    assert run(uow, path).applied
    assert patient(engine, "F1").last_name == "LOWE"


def _cache_formula_value(path: Path, cell: str, value: str) -> None:
    """Give a formula cell the value Excel would have saved with it (openpyxl
    writes formulas without one)."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i.filename) for i in src.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index(f'<c r="{cell}"')
    end = sheet.index("</c>", start)
    formula = sheet[sheet.index("<f>", start) : sheet.index("</f>", start) + 4]
    sheet = sheet[:start] + f'<c r="{cell}" t="str">{formula}<v>{value}</v>' + sheet[end:]
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


def test_a_zip_bomb_is_refused_before_it_is_inflated(uow, tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("[Content_Types].xml", "<Types/>")
        out.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (64 << 20) + b"/>")
    with pytest.raises(ValidationError) as caught:
        run(uow, path)
    assert caught.value.errors[0].code == "zip_bomb"


def test_an_xml_entity_bomb_is_refused(uow, tmp_path):
    import zipfile

    path = write_xlsx(tmp_path / "e.xlsx", [["Acct", "First"], ["1", "x"]])
    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i.filename) for i in src.infolist()}
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    if sheet.startswith("<?xml"):
        sheet = sheet[sheet.index("?>") + 2 :]
    sheet = lol + sheet.replace("<v>1</v>", "<v>&lol3;</v>", 1)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    with pytest.raises(ValidationError) as caught:
        run(uow, path)
    assert caught.value.errors[0].code == "unreadable"


def test_a_million_bad_rows_give_a_short_report(uow, engine, tmp_path):
    path = tmp_path / "many.csv"
    with path.open("w") as out:
        out.write("npi,first_name,last_name,taxonomy\n")
        out.write("12453195,A,B,207Q00000X\n" * 1_000_000)  # an NPI has 10 digits
    report = run(uow, path, kind="providers")

    assert report.rows == 1_000_000 and report.error_count == 1_000_000
    assert len(report.errors) == imports.MAX_ERRORS_LISTED
    assert report.errors[0].row == 2 and report.errors[-1].row == 1_001
    assert dict(report.error_counts) == {("npi", "npi_format"): 1_000_000}
    assert count(engine, Provider) == 1


# --- the other kinds -------------------------------------------------------------------
COVERAGE_HEADER = (
    "Acct,Insurance,Policy Number,Priority,Group,Relationship,Subscriber First,"
    "Subscriber Last,Subscriber DOB,Subscriber Sex,Effective,Copay"
)


@pytest.fixture
def with_patients(uow, patients_csv):
    run(uow, patients_csv)


def test_coverages_match_patients_by_account_and_payers_by_edi_id_or_name(
    uow, engine, tmp_path, with_patients, practice
):
    path = write_csv(
        tmp_path / "c.csv",
        [
            COVERAGE_HEADER,
            "A100,ACME1,W-123 456,primary,G1,self,,,,,2025-01-01,25.00",
            "A100,lakeside mutual,LK9,2,,spouse,Sam,Quill,1979-03-03,M,2025-01-01,",
            "A101,Acme Health Plan,W777,,,18,,,,,01/01/2026,$10",
        ],
    )
    report = run(uow, path, kind="coverages")

    assert report.applied and report.plan.new == 3, report.errors
    with engine.connect() as conn:
        got = conn.execute(
            select(
                Coverage.payer_id,
                Coverage.priority,
                Coverage.member_id,
                Coverage.relationship,
                Coverage.copay_cents,
            ).order_by(Coverage.id)
        ).all()
    acme, lakeside = practice.payer_ids
    assert got == [
        (acme, 1, "W-123 456", "self", 2500),
        (lakeside, 2, "LK9", "spouse", 0),
        (acme, 1, "W777", "self", 1000),
    ]
    assert run(uow, path, kind="coverages").plan.unchanged == 3
    assert count(engine, Coverage) == 3


def test_coverage_rows_for_unknown_patients_payers_or_a_taken_priority_are_refused(
    uow, engine, tmp_path, with_patients
):
    path = write_csv(
        tmp_path / "c.csv",
        [
            COVERAGE_HEADER,
            "A100,ACME1,W1,primary,,,,,,,2025-01-01,",
            "NOPE,ACME1,W2,primary,,,,,,,2025-01-01,",
            "A101,Nobody Mutual,W3,primary,,,,,,,2025-01-01,",
            "A100,LKSD2,W4,primary,,,,,,,2025-06-01,",
            "A101,ACME1,W5,primary,,child,,,,,2025-06-01,",
        ],
    )
    report = run(uow, path, kind="coverages")

    assert not report.applied and count(engine, Coverage) == 0
    assert {(e.row, e.column, e.code) for e in report.errors} == {
        (3, "Acct", "unknown"),
        (4, "Insurance", "unknown"),
        (5, "Priority", "taken"),
        (6, "Subscriber First", "required"),
        (6, "Subscriber Last", "required"),
        (6, "Subscriber DOB", "required"),
        (6, "Subscriber Sex", "required"),
    }
    assert "row 2" in next(e.message for e in report.errors if e.code == "taken")


def test_providers_and_payers_are_matched_by_npi_and_edi_payer_id(uow, engine, tmp_path):
    providers = write_csv(
        tmp_path / "prov.csv",
        [
            "NPI,First Name,Last Name,Taxonomy,Credential",
            "1245319599,Alex,Rivera,207Q00000X,DO",  # on file as MD: updated
            "1003000126,Bea,Stone,207r00000x,MD",
        ],
    )
    report = run(uow, providers, kind="providers")
    assert (report.plan.new, report.plan.updated) == (1, 1)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Provider.npi, Provider.credential, Provider.taxonomy).order_by(Provider.npi)
        ).all()
    assert rows == [("1003000126", "MD", "207R00000X"), ("1245319599", "DO", "207Q00000X")]

    payers = write_csv(
        tmp_path / "pay.csv",
        [
            "Payer ID,Payer Name,Filing Indicator,Phone",
            "ACME1,Acme Health,CI,",
            "MCR01,Medicare,MB,",
        ],
    )
    report = run(uow, payers, kind="payers")
    assert (report.plan.new, report.plan.updated) == (1, 1)
    assert count(engine, Payer) == 3


def test_opening_balances_post_with_their_dates_once(
    uow, engine, tmp_path, with_patients, practice
):
    run(
        uow,
        write_csv(tmp_path / "c.csv", [COVERAGE_HEADER, "A100,ACME1,W1,1,,,,,,,2025-01-01,"]),
        kind="coverages",
    )
    path = write_csv(
        tmp_path / "bal.csv",
        [
            "Account,Balance,As Of,Owed By,Payer,Invoice",
            "A100,40.00,2025-11-03,patient,,INV-1",
            "A100,125.50,2025-10-20,insurance,ACME1,INV-2",
            "A101,(15.00),2025-12-01,patient,,",
        ],
    )
    report = run(uow, path, kind="balances")
    assert report.applied and report.plan.new == 3, report.errors

    a100, a101 = patient(engine, "A100").id, patient(engine, "A101").id
    with uow() as ctx:

        def owed(account, patient_id=None):
            return ledger.balance(
                ctx.session, ctx.practice_id, account=account, patient_id=patient_id
            )

        assert owed(Account.AR_PATIENT, a100) == Money(40_00)
        assert owed(Account.AR_INSURANCE, a100) == Money(125_50)
        assert owed(Account.AR_PATIENT, a101) == Money(-15_00)
        assert owed(Account.OPENING_BALANCE) == Money(-150_50)
        dates = ctx.session.exec(
            select(JournalEntry.entry_date).where(JournalEntry.kind == "opening_balance")
        ).all()
        assert sorted(d for (d,) in dates) == [
            date(2025, 10, 20), date(2025, 11, 3), date(2025, 12, 1)
        ]  # fmt: skip
    again = run(uow, path, kind="balances")
    assert again.applied and (again.plan.new, again.plan.unchanged) == (0, 3)

    changed = write_csv(
        tmp_path / "bal2.csv", ["Account,Balance,As Of,Invoice", "A100,45.00,2025-11-03,INV-1"]
    )
    report = run(uow, changed, kind="balances")
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "Balance", "changed")]


def test_an_opening_balance_in_a_closed_month_is_refused(uow, tmp_path, with_patients):
    with uow() as ctx:
        periods.close_month(ctx, month=date(2025, 11, 1))
    path = write_csv(
        tmp_path / "bal.csv", ["Account,Amount,Date", "A100,40.00,2025-11-03", "A101,0,2025-12-03"]
    )
    report = run(uow, path, kind="balances")
    assert {(e.row, e.column, e.code) for e in report.errors} == {
        (2, "Date", "closed_period"),
        (3, "Amount", "zero"),
    }


def test_appointments_are_matched_by_their_external_id(
    uow, engine, tmp_path, with_patients, practice
):
    with uow() as ctx:
        ctx.session.add(
            AppointmentType(practice_id=ctx.practice_id, name="Office Visit", duration_minutes=20)
        )
    path = write_csv(
        tmp_path / "appts.csv",
        [
            "Appt ID,Account,Provider NPI,Type,Appt Date,Appt Time,Status",
            "E-1,A100,1245319599,office visit,2026-03-10,9:30 AM,scheduled",
            "E-2,A101,1245319599,Office Visit,03/10/2026,14:00,Seen",
        ],
    )
    report = run(uow, path, kind="appointments")
    assert report.applied and report.plan.new == 2, report.errors
    with engine.connect() as conn:
        rows = conn.execute(
            select(Appointment.external_id, Appointment.starts_at, Appointment.ends_at,
                   Appointment.status, Appointment.location_id).order_by(Appointment.external_id)
        ).all()  # fmt: skip
    # 2026-03-10 is standard time in America/New_York (UTC-5)
    assert [(r[0], r[1].hour, r[1].minute, (r[2] - r[1]).seconds // 60, r[3]) for r in rows] == [
        ("E-1", 14, 30, 20, "booked"),
        ("E-2", 19, 0, 20, "completed"),
    ]
    assert {r[4] for r in rows} == {practice.location_id}

    moved = write_csv(
        tmp_path / "appts2.csv",
        ["Appt ID,Account,Provider NPI,Type,Start,Status",
         "E-1,A100,1245319599,Office Visit,2026-03-10 10:00,cancelled"],
    )  # fmt: skip
    report = run(uow, moved, kind="appointments")
    assert (report.plan.new, report.plan.updated) == (0, 1)
    assert count(engine, Appointment) == 2


def test_the_fee_schedule_imports_through_the_engine(uow, engine, tmp_path):
    path = write_csv(
        tmp_path / "fees.csv", ["CPT,Fee,Payer", "99213,125.00,", "99214,xx,", "99213,95.00,ACME1"]
    )
    report = run(uow, path, kind="feeschedule")
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, "Fee", "format")]
    good = write_csv(
        tmp_path / "fees2.csv", ["CPT,Fee,Payer", "99213,125.00,", "99213,95.00,ACME1"]
    )
    assert run(uow, good, kind="feeschedule").plan.new == 2
    assert run(uow, good, kind="feeschedule").plan.unchanged == 2


def test_cell_conversion_rules():
    from pms_core.imports import C_DATETIME, C_MONEY, C_TIME, ImportColumn
    from pms_core.services.imports import CellError, convert

    money, at, when = (
        ImportColumn("m", C_MONEY),
        ImportColumn("t", C_TIME),
        ImportColumn("w", C_DATETIME),
    )
    assert convert(money, 12.5) == Money(12_50) and convert(money, "$1,234.05") == Money(1234_05)
    assert convert(money, 7) == Money(7_00) and convert(money, " ") is None
    for bad, code in ((12.345, "decimals"), ("1.005", "decimals"), ("abc", "money")):
        with pytest.raises(CellError) as caught:
            convert(money, bad)
        assert caught.value.code == code
    assert convert(at, "9:05 pm") == time(21, 5) and convert(at, 0.5) == time(12, 0)
    assert convert(when, "03/10/2026 12:30 AM") == datetime(2026, 3, 10, 0, 30)
    assert convert(when, 46091.75) == datetime(2026, 3, 10, 18, 0)
