"""Recurring appointment series: the rule, conflicts reported by date, DST, cancel.

The clock stands at Monday 2026-03-02 09:00 in Chicago (15:00 UTC); daylight
saving starts there on Sunday 2026-03-08 and ends on Sunday 2026-11-01.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from pms_core import validation as v
from pms_core.errors import NotFound, PermissionDenied, ValidationError
from pms_core.models import (
    Appointment,
    AppointmentSeries,
    AppointmentType,
    AppointmentTypeProvider,
    AuditEvent,
    AvailabilityException,
    AvailabilityTemplate,
)
from pms_core.services import appointments, patients, series
from pms_core.services.practice import insert_provider

CHICAGO = ZoneInfo("America/Chicago")


# --- set-up helpers (also used by test_waitlist) --------------------------------------
def at(day: str, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a Chicago wall-clock time."""
    local = datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=CHICAGO)
    return local.astimezone(UTC)


def add_patient(uow, first_name: str = "Nora", last_name: str = "Quill") -> int:
    with uow("frontdesk") as ctx:
        return patients.register_patient(
            ctx,
            first_name=first_name,
            last_name=last_name,
            dob="1980-05-05",
            sex="F",
            address1="7 Elm St",
            city="Springfield",
            state="IL",
            zip="62702",
            home_phone="2175550100",
            preferred_contact="phone",
        ).id


def add_type(
    engine, practice, name: str, minutes: int, *, providers=(), needs_room: bool = False
) -> int:
    with Session(engine) as s:
        row = AppointmentType(
            practice_id=practice.id, name=name, duration_minutes=minutes, needs_room=needs_room
        )
        s.add(row)
        s.flush()
        for provider_id in providers:
            s.add(AppointmentTypeProvider(appointment_type_id=row.id, provider_id=provider_id))
        s.commit()
        return row.id


def add_hours(
    engine,
    practice,
    *,
    provider_id: int | None = None,
    weekdays=range(5),
    start: time = time(8),
    end: time = time(17),
) -> None:
    """Working hours at the practice's location from 2026-01-01, open-ended."""
    with Session(engine) as s:
        for weekday in weekdays:
            s.add(
                AvailabilityTemplate(
                    practice_id=practice.id,
                    provider_id=provider_id or practice.provider_id,
                    location_id=practice.location_id,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                    effective_from=date(2026, 1, 1),
                )
            )
        s.commit()


def add_provider(engine, practice, last_name: str, npi_start: str) -> int:
    with Session(engine) as s:
        provider = insert_provider(
            s,
            practice.id,
            npi=npi_start + v.npi_check_digit(npi_start),
            taxonomy="207Q00000X",
            first_name="Sam",
            last_name=last_name,
            credential="DO",
        )
        s.commit()
        return provider.id


def count_rows(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def audit_actions(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- fixtures -------------------------------------------------------------------------
@pytest.fixture
def visit(engine, practice, uow):
    """A patient, a 30-minute therapy type, and the provider working weekdays 8-17."""
    add_hours(engine, practice)
    return SimpleNamespace(
        patient_id=add_patient(uow),
        type_id=add_type(engine, practice, "Therapy", 30),
    )


def args(practice, visit, **overrides):
    return {
        "patient_id": visit.patient_id,
        "provider_id": practice.provider_id,
        "location_id": practice.location_id,
        "appointment_type_id": visit.type_id,
        "first_date": date(2026, 3, 3),
        "local_start": time(9),
        "rule": "weekly",
        **overrides,
    }


def series_starts(engine, series_id: int) -> list[datetime]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Appointment.starts_at)
                .where(Appointment.series_id == series_id)
                .order_by(Appointment.starts_at)
            ).all()
        )


# --- the rule -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rule,interval,first,end,expected",
    [
        ("weekly", 1, "2026-03-03", {"until": date(2026, 3, 31)}, ["03-03", "03-10", "03-17", "03-24", "03-31"]),
        ("weekly", 1, "2026-03-03", {"until": date(2026, 3, 30)}, ["03-03", "03-10", "03-17", "03-24"]),
        ("weekly", 2, "2026-03-03", {"count": 3}, ["03-03", "03-17", "03-31"]),
        ("monthly_weekday", 1, "2026-03-10", {"count": 4}, ["03-10", "04-14", "05-12", "06-09"]),
        ("monthly_weekday", 2, "2026-03-10", {"until": date(2026, 7, 31)}, ["03-10", "05-12", "07-14"]),
        ("monthly_weekday", 1, "2026-01-30", {"count": 4}, ["01-30", "02-27", "03-27", "04-24"]),
        ("monthly_weekday", 1, "2026-11-10", {"count": 3}, ["11-10", "12-08", "01-12"]),
    ],
    ids=[
        "weekly-until-inclusive",
        "weekly-until-day-before",
        "every-2-weeks-count",
        "2nd-tuesday",
        "2nd-tuesday-every-2-months",
        "5th-friday-means-last-friday",
        "across-new-year",
    ],
)  # fmt: skip
def test_occurrence_dates(rule, interval, first, end, expected):
    days = series.occurrence_dates(
        rule=rule, interval=interval, first_date=date.fromisoformat(first), **end
    )
    assert [d.strftime("%m-%d") for d in days] == expected


@pytest.mark.parametrize(
    "first,rule,interval,words",
    [
        ("2026-03-03", "weekly", 1, "weekly on Tuesday"),
        ("2026-03-03", "weekly", 3, "every 3 weeks on Tuesday"),
        ("2026-03-10", "monthly_weekday", 1, "monthly on the 2nd Tuesday"),
        ("2026-01-30", "monthly_weekday", 2, "every 2 months on the last Friday"),
    ],
)
def test_rule_in_words(first, rule, interval, words):
    assert series.describe_rule(rule, interval, date.fromisoformat(first)).startswith(words)


def test_a_5th_weekday_says_it_becomes_the_last_one():
    text = series.describe_rule("monthly_weekday", 1, date(2026, 1, 30))
    assert "last Friday" in text and "5th Friday" in text


@pytest.mark.parametrize(
    "changes,field,code",
    [
        ({"rule": "daily"}, "rule", "choice"),
        ({"interval": 0}, "interval", "range"),
        ({"interval": 53}, "interval", "range"),
        ({"until": None, "count": None}, "until", "required"),
        ({"until": date(2026, 4, 1), "count": 3}, "count", "one_end"),
        ({"until": date(2026, 3, 2), "count": None}, "until", "before_first"),
        ({"count": 0}, "count", "range"),
        ({"count": 105}, "count", "range"),
        ({"count": "3"}, "count", "range"),
        ({"count": True}, "count", "range"),
        ({"until": date(2028, 3, 3), "count": None}, "until", "too_many"),
    ],
)
def test_bad_rule_or_end_is_refused_by_field(changes, field, code):
    kwargs = {
        "rule": "weekly",
        "interval": 1,
        "first_date": date(2026, 3, 3),
        "count": 4,
        **changes,
    }
    with pytest.raises(ValidationError) as err:
        series.occurrence_dates(**kwargs)
    assert (field, code) in {(e.field, e.code) for e in err.value.errors}


def test_at_most_104_occurrences():
    days = series.occurrence_dates(
        rule="weekly", interval=1, first_date=date(2026, 3, 3), until=date(2028, 2, 22)
    )
    assert len(days) == series.MAX_OCCURRENCES == 104


# --- booking a series -------------------------------------------------------------------
def test_weekly_series_keeps_9am_local_across_the_dst_change(engine, practice, uow, visit):
    with uow("frontdesk") as ctx:
        result = series.create_series(ctx, **args(practice, visit, count=3))
    assert result.conflicts == []
    starts = series_starts(engine, result.series.id)
    # 09:00 CST is 15:00 UTC; after 2026-03-08, 09:00 CDT is 14:00 UTC.
    assert starts == [
        datetime(2026, 3, 3, 15, tzinfo=UTC),
        datetime(2026, 3, 10, 14, tzinfo=UTC),
        datetime(2026, 3, 17, 14, tzinfo=UTC),
    ]
    assert {s.astimezone(CHICAGO).time() for s in starts} == {time(9)}


def test_autumn_change_moves_the_utc_hour_back(practice, uow, visit):
    with uow("frontdesk") as ctx:
        plan = series.plan_series(
            ctx, **args(practice, visit, first_date=date(2026, 10, 27), count=2)
        )
    assert [o.starts_at for o in plan.occurrences] == [
        datetime(2026, 10, 27, 14, tzinfo=UTC),
        datetime(2026, 11, 3, 15, tzinfo=UTC),
    ]
    assert all(o.bookable for o in plan.occurrences)


def test_conflict_in_week_3_is_reported_by_date_and_the_rest_booked(engine, practice, uow, visit):
    other = add_patient(uow, "Ivo", "Brandt")
    with uow("frontdesk") as ctx:
        taken = appointments.book(
            ctx,
            patient_id=other,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=visit.type_id,
            starts_at=at("2026-03-17", 9),
        )
    with uow("frontdesk") as ctx:
        result = series.create_series(ctx, **args(practice, visit, count=5))
    assert [(c.number, c.day) for c in result.conflicts] == [(3, date(2026, 3, 17))]
    assert [p.code for p in result.conflicts[0].problems] == ["provider_busy"]
    assert str(taken.id) in result.conflicts[0].problems[0].message
    assert [b.starts_at.astimezone(CHICAGO).date().isoformat() for b in result.booked] == [
        "2026-03-03",
        "2026-03-10",
        "2026-03-24",
        "2026-03-31",
    ]
    assert len(series_starts(engine, result.series.id)) == 4
    # Each occurrence went through appointments.book (its audit event), plus one for the series.
    assert len(audit_actions(engine, "appointment.book")) == 5
    (created,) = audit_actions(engine, "appointment_series.create")
    assert '"booked":4' in created.detail and '"conflicts":1' in created.detail


def test_all_or_nothing_books_nothing_when_one_occurrence_conflicts(engine, practice, uow, visit):
    other = add_patient(uow, "Ivo", "Brandt")
    with uow("frontdesk") as ctx:
        appointments.book(
            ctx,
            patient_id=other,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=visit.type_id,
            starts_at=at("2026-03-17", 9),
        )
    with pytest.raises(series.SeriesConflict) as err, uow("frontdesk") as ctx:
        series.create_series(ctx, **args(practice, visit, count=5), all_or_nothing=True)
    assert [c.day for c in err.value.conflicts] == [date(2026, 3, 17)]
    assert "2026-03-17 (provider_busy)" in str(err.value)
    assert "1 of 5" in str(err.value)
    assert count_rows(engine, AppointmentSeries) == 0
    assert count_rows(engine, Appointment, Appointment.patient_id == visit.patient_id) == 0


def test_series_with_no_free_occurrence_is_refused(engine, practice, uow, visit):
    saturday = date(2026, 3, 7)  # the provider does not work weekends
    with pytest.raises(series.SeriesConflict) as err, uow("frontdesk") as ctx:
        series.create_series(ctx, **args(practice, visit, first_date=saturday, count=2))
    assert {p.code for c in err.value.conflicts for p in c.problems} == {"unavailable"}
    assert count_rows(engine, AppointmentSeries) == 0


def test_until_and_typed_values_are_stored_on_the_series(engine, practice, uow, visit):
    with uow("frontdesk") as ctx:
        result = series.create_series(
            ctx,
            **args(practice, visit, first_date="2026-03-03", local_start="09:30", rule="weekly"),
            interval=2,
            until="2026-03-31",
        )
    assert result.description == "every 2 weeks on Tuesday"
    with Session(engine) as s:
        row = s.get(AppointmentSeries, result.series.id)
        assert (row.rule, row.interval, row.until, row.count) == (
            "weekly",
            2,
            date(2026, 3, 31),
            None,
        )
        assert row.local_start == time(9, 30)
    assert [s.astimezone(CHICAGO).date().day for s in series_starts(engine, row.id)] == [3, 17, 31]


def test_monthly_2nd_tuesday_series_is_booked(engine, practice, uow, visit):
    with uow("frontdesk") as ctx:
        result = series.create_series(
            ctx,
            **args(practice, visit, first_date=date(2026, 3, 10), rule="monthly_weekday"),
            count=3,
        )
    assert result.description == "monthly on the 2nd Tuesday"
    days = [s.astimezone(CHICAGO).date() for s in series_starts(engine, result.series.id)]
    assert days == [date(2026, 3, 10), date(2026, 4, 14), date(2026, 5, 12)]


def test_monthly_last_friday_series(practice, uow, visit):
    with uow("frontdesk") as ctx:
        plan = series.plan_series(
            ctx,
            **args(practice, visit, first_date=date(2026, 5, 29), rule="monthly_weekday"),
            count=3,
        )
    assert "last Friday" in plan.description
    assert [o.day for o in plan.occurrences] == [
        date(2026, 5, 29),
        date(2026, 6, 26),
        date(2026, 7, 31),
    ]
    assert all(o.bookable for o in plan.occurrences)


def test_plan_reports_reasons_per_date_and_books_nothing(engine, practice, uow, visit):
    with Session(engine) as s:
        s.add(
            AvailabilityException(
                practice_id=practice.id,
                kind="holiday",
                starts_at=at("2026-03-09", 0),
                ends_at=at("2026-03-10", 0),
            )
        )
        s.commit()
    with uow("frontdesk") as ctx:
        plan = series.plan_series(
            ctx,
            **args(practice, visit, first_date=date(2026, 3, 2), local_start=time(8)),
            count=3,
        )
    assert [[p.code for p in o.problems] for o in plan.occurrences] == [
        ["past"],  # it is 09:00 on 2026-03-02
        ["unavailable"],  # the holiday
        [],
    ]
    assert [o.number for o in plan.conflicts] == [1, 2]
    assert count_rows(engine, Appointment) == 0
    assert count_rows(engine, AppointmentSeries) == 0
    (event,) = audit_actions(engine, "appointment_series.plan")
    assert event.patient_id == visit.patient_id


def test_start_inside_the_spring_forward_gap_is_reported_not_shifted(engine, practice, uow, visit):
    add_hours(engine, practice, weekdays=[6], start=time(0), end=time(6))  # Sundays
    with uow("frontdesk") as ctx:
        plan = series.plan_series(
            ctx,
            **args(practice, visit, first_date=date(2026, 3, 8), local_start=time(2, 30)),
            count=2,
        )
    gap, next_week = plan.occurrences
    assert gap.starts_at is None and [p.code for p in gap.problems] == ["nonexistent"]
    assert next_week.bookable and next_week.starts_at == datetime(2026, 3, 15, 7, 30, tzinfo=UTC)


def test_problem_on_every_date_is_one_validation_error(engine, practice, uow, visit):
    with uow("frontdesk") as ctx:
        patients.update_patient(ctx, patient_id=visit.patient_id, deceased_date="2026-02-01")
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        series.create_series(ctx, **args(practice, visit, count=3))
    assert [(e.field, e.code) for e in err.value.errors] == [("patient_id", "deceased")]
    assert count_rows(engine, AppointmentSeries) == 0


def test_typed_values_that_do_not_parse_are_named(practice, uow, visit):
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        series.plan_series(
            ctx,
            **args(practice, visit, first_date="2026-13-01", local_start="25:00", rule="yearly"),
            count=2,
        )
    assert err.value.fields == {"first_date", "local_start", "rule"}


def test_manager_may_preview_but_not_book_a_series(engine, practice, uow, visit):
    with uow("manager") as ctx:
        assert len(series.plan_series(ctx, **args(practice, visit, count=2)).occurrences) == 2
    with pytest.raises(PermissionDenied), uow("manager") as ctx:
        series.create_series(ctx, **args(practice, visit, count=2))
    assert count_rows(engine, Appointment) == 0
    with pytest.raises(PermissionDenied), uow("auditor") as ctx:
        series.plan_series(ctx, **args(practice, visit, count=2))


# --- cancelling what is left of a series ----------------------------------------------
def test_cancel_series_cancels_only_upcoming_booked_or_confirmed_occurrences(
    engine, practice, uow, visit, clock
):
    with uow("frontdesk") as ctx:
        result = series.create_series(ctx, **args(practice, visit, count=5))
    first, second, third, fourth, fifth = (a.id for a in result.booked)
    with uow("frontdesk") as ctx:
        appointments.confirm(ctx, appointment_id=fourth)
    clock.set(at("2026-03-10", 12))  # the 2nd occurrence (09:00 today) has started
    with uow("frontdesk") as ctx:
        cancelled = series.cancel_series(
            ctx, series_id=result.series.id, from_date="2026-03-03", reason="moved away"
        )
    assert [a.id for a in cancelled] == [third, fourth, fifth]
    with Session(engine) as s:
        status = {a.id: a for a in s.exec(select(Appointment)).all()}
    assert [status[i].status for i in (first, second, third, fourth, fifth)] == [
        "booked",
        "booked",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    assert status[fifth].cancel_reason == "moved away"
    assert status[fifth].cancelled_by_id == practice.users["frontdesk"]
    assert len(audit_actions(engine, "appointment.cancel")) == 3
    (event,) = audit_actions(engine, "appointment_series.cancel")
    assert event.patient_id == visit.patient_id


def test_cancel_series_from_a_later_date_keeps_the_earlier_ones(engine, practice, uow, visit):
    with uow("frontdesk") as ctx:
        result = series.create_series(ctx, **args(practice, visit, count=3))
    with uow("frontdesk") as ctx:
        cancelled = series.cancel_series(
            ctx, series_id=result.series.id, from_date=date(2026, 3, 17), reason="done"
        )
    assert [a.starts_at for a in cancelled] == [at("2026-03-17", 9)]


def test_cancel_series_needs_a_reason_and_a_known_series(practice, uow, visit):
    with uow("frontdesk") as ctx:
        result = series.create_series(ctx, **args(practice, visit, count=2))
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        series.cancel_series(ctx, series_id=result.series.id, from_date="03/40/2026", reason=" ")
    assert err.value.fields == {"from_date", "reason"}
    with pytest.raises(NotFound), uow("frontdesk") as ctx:
        series.cancel_series(
            ctx, series_id=result.series.id + 99, from_date="2026-03-03", reason="x"
        )
