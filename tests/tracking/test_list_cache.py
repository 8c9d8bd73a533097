"""The list page is a cached fragment (portal/fragments.py): served without querying the items
again, and fresh after every change that shows on it."""

from datetime import date

import pytest
from django.urls import reverse

from tracking import selectors, services
from tracking.models import TrackedItem


@pytest.fixture
def october(imported_seed, make_meeting):
    meeting = make_meeting(date(2019, 10, 15))
    services.meeting_saved(meeting=meeting)
    return meeting


@pytest.fixture
def builds(monkeypatch):
    calls = []
    real = selectors.item_list_queryset
    monkeypatch.setattr(selectors, "item_list_queryset", lambda user: calls.append(1) or real(user))
    return calls


def list_page(client, **params):
    response = client.get(reverse("tracking:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_second_reader_gets_the_list_without_querying_the_items(
    login, coordinator, other_coordinator, october, builds
):
    first = list_page(login(coordinator))
    second = list_page(login(other_coordinator))
    assert len(builds) == 1
    assert "108-09-01" in second and first.count("case-no") == second.count("case-no")


def test_each_filter_has_its_own_entry(login, coordinator, october, builds):
    client = login(coordinator)
    assert "108-09-R01" not in list_page(client)  # open items by default
    assert "108-09-R01" in list_page(client, state="")  # all states
    assert len(builds) == 2


def test_a_status_update_shows_at_once(login, coordinator, platform_clerk, october):
    client = login(coordinator)
    assert "共 1 則）" not in list_page(client)
    item = TrackedItem.objects.get(case_no="108-09-02")
    services.status_update_post(item=item, user=platform_clerk, text="已完成系統調整。")
    assert "共 1 則）" in list_page(client)


def test_a_renamed_item_shows_at_once(login, coordinator, bureau, october):
    client = login(coordinator)
    assert "新的案由（測試）" not in list_page(client)
    item = TrackedItem.objects.get(case_no="108-09-01")
    services.item_rename(item=item, subject="新的案由（測試）", user=bureau, reason="文字修正")
    assert "新的案由（測試）" in list_page(client)


def test_staff_and_coordinators_do_not_share_a_page(login, coordinator, bureau, october):
    assert "建立下次會議" not in list_page(login(coordinator))
    assert "建立下次會議" in list_page(login(bureau))
