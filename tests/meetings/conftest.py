"""Fixtures for the minutes: the bureau's divisions, the seed text, the seed imported."""

from pathlib import Path

import pytest

from meetings import services
from tests import factories

SEED = Path(__file__).resolve().parents[2] / "meetings" / "seed" / "108-09.txt"


@pytest.fixture
def seed_text():
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def divisions(db):
    return [
        factories.DivisionFactory(name=name, position=i)
        for i, name in enumerate(("資訊推廣組", "系統平臺組", "網管資安組"), start=1)
    ]


@pytest.fixture
def tracking_calls(monkeypatch):
    """Stand in for tracking/ (another engineer's app): record what the importer hands over
    and give it back to the renderer through minutes_tables, as tracking will."""
    import tracking.selectors
    import tracking.services

    calls = {"apply": [], "saved": []}

    def apply(*, meeting, tracked_items, new_tracked_items, user=None):
        calls["apply"].append(
            {"meeting": meeting.pk, "tracked": tracked_items, "new": new_tracked_items}
        )

    def saved(*, meeting, user=None):
        calls["saved"].append(meeting.pk)

    def tables(meeting):
        for call in calls["apply"]:
            if call["meeting"] == meeting.pk:
                return {"previous": call["tracked"], "new": call["new"]}
        return {"previous": [], "new": []}

    monkeypatch.setattr(tracking.services, "minutes_import_apply", apply)
    monkeypatch.setattr(tracking.services, "meeting_saved", saved)
    monkeypatch.setattr(tracking.selectors, "minutes_tables", tables)
    return calls


@pytest.fixture
def seed_meeting(divisions, bureau, seed_text, tracking_calls):
    """The seed minutes imported and published by a bureau clerk."""
    return services.meeting_import(text=seed_text, user=bureau, publish=True)
