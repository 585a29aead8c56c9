"""The dashboard service: tiles are the reports' figures, one audit event per
view, and each user's tile choice is checked and kept. Both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from pms_core.errors import PermissionDenied, ValidationError
from pms_core.models import AuditEvent
from pms_core.services import dashboard, reports
from pms_core.services.dashboard import Filters
from tests.plugins.test_reports import books  # noqa: F401  (the fixture)

FEBRUARY = Filters(date(2026, 2, 1), date(2026, 2, 28))


def test_tiles_and_bars_are_the_reports_figures(engine, books, uow):  # noqa: F811
    with uow("manager") as ctx:
        board = dashboard.load(ctx, FEBRUARY)
        days = reports.compute(ctx, "days_in_ar", {"as_of": "2026-02-28"}).rows[0]["days"]
        collections = reports.compute(
            ctx, "collections", {"date_from": "2026-02-01", "date_to": "2026-02-28"}
        ).totals
    tiles = {t.key: t for t in board.tiles}
    assert list(tiles) == list(dashboard.TILES)
    assert tiles["ar_days"].value == days
    assert tiles["net_collection_rate"].value == collections["net_rate"]
    assert tiles["collected_month"].value == 17000  # A's 10.00 and B's 160.00
    assert len(tiles["collected_month"].trend) == dashboard.TREND_MONTHS
    assert tiles["collected_month"].trend[-1] == 17000.0
    assert tiles["collected_month"].drill.report == "payments_received"
    aging = {b.label: b.value for b in board.aging}
    # on 2026-02-28: c3 is 34 days old, A owes 5.00 on c1 (75 days)
    assert aging == {"0-30": 0, "31-60": 15000, "61-90": 500, "91-120": 0, "120+": 0}
    assert board.aging[0].drill.params == {"as_of": "2026-02-28", "bucket": "0-30"}
    with Session(engine) as s:
        viewed = s.exec(select(AuditEvent).where(AuditEvent.action == "dashboard.view")).all()
    assert len(viewed) == 1


def test_the_tile_choice_is_checked_and_kept_per_user(books, uow):  # noqa: F811
    with uow("manager") as ctx:
        assert dashboard.chosen_tiles(ctx) == list(dashboard.TILES)
        for keys, code in (([], "required"), (["ar_days", "ar_days"], "repeated"),
                           (["profit"], "unknown")):  # fmt: skip
            with pytest.raises(ValidationError) as caught:
                dashboard.choose_tiles(ctx, keys)
            assert caught.value.errors[0].code == code
        dashboard.choose_tiles(ctx, ["denial_rate", "ar_days"])
    with uow("manager") as ctx:
        assert dashboard.chosen_tiles(ctx) == ["denial_rate", "ar_days"]
        assert [t.key for t in dashboard.load(ctx, FEBRUARY).tiles] == ["denial_rate", "ar_days"]
    with uow("biller") as ctx:  # another user keeps the default
        assert dashboard.chosen_tiles(ctx) == list(dashboard.TILES)


def test_who_may_see_it_and_an_empty_range(books, uow):  # noqa: F811
    with uow("frontdesk") as ctx, pytest.raises(PermissionDenied):
        dashboard.load(ctx)
    with uow("manager") as ctx, pytest.raises(ValidationError, match="range is empty"):
        dashboard.load(ctx, Filters(date(2026, 3, 1), date(2026, 2, 1)))
