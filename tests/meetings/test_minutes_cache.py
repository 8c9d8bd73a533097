"""The rendered minutes are cached (meetings/minutes_cache.py) and dropped on every change."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from meetings import minutes_cache, selectors, services
from meetings.models import ReportItem
from portal import fragments
from portal.models import School
from tracking.models import TrackedItem


@pytest.fixture
def published(divisions, bureau, seed_text):
    """The seed minutes with the real tracking app behind them (its 柒、列管事項 tables)."""
    cache.clear()
    return services.meeting_import(text=seed_text, user=bureau, publish=True)


@pytest.fixture
def builds(monkeypatch):
    """How many times the minutes were built from the database."""
    calls = []
    real = selectors.meeting_document

    def counting(meeting):
        calls.append(meeting.pk)
        return real(meeting)

    monkeypatch.setattr(selectors, "meeting_document", counting)
    return calls


def page(client, meeting):
    """The minutes themselves (the <article>), not the correction record below them."""
    response = client.get(meeting.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('<article class="minutes"') : html.index("</article>")]


def test_a_second_reader_gets_the_minutes_without_building_them(
    login, coordinator, published, builds
):
    client = login(coordinator)
    first = page(client, published)
    second = page(client, published)
    assert builds == [published.pk]
    assert "資訊推廣組" in second and first.count("minutes-entry") == second.count("minutes-entry")


def test_editing_an_item_shows_at_once(login, coordinator, bureau, published, builds):
    client = login(coordinator)
    page(client, published)
    item = ReportItem.objects.filter(meeting=published, parent__isnull=False).first()
    services.report_item_update(item=item, user=bureau, text="更正後的內容（測試）", reason="錯字")
    assert "更正後的內容（測試）" in page(client, published)


def test_a_tracked_item_renamed_shows_in_the_minutes_tables(login, coordinator, published):
    client = login(coordinator)
    item = TrackedItem.objects.filter(reviews__meeting=published).first()
    assert item.subject in page(client, published)
    item.subject = "新的列管案由（測試）"
    item.save()
    assert "新的列管案由（測試）" in page(client, published)


def test_a_school_renamed_shows_in_the_attendance(
    login, coordinator, bureau, published, xindian_school
):
    services.meeting_attendance_set(
        meeting=published, user=bureau, schools=[xindian_school], reason="補登"
    )
    client = login(coordinator)
    assert xindian_school.name in page(client, published)
    School.objects.filter(pk=xindian_school.pk).update(name="新店區新店國民小學")  # no signal…
    assert "新店區新店國民小學" not in page(client, published)  # …so still the cached page
    xindian_school.refresh_from_db()
    xindian_school.save()  # a save through the model (admin, services) drops every meeting's
    assert "新店區新店國民小學" in page(client, published)


def test_an_evicted_counter_never_brings_back_an_older_rendering(login, coordinator, published):
    client = login(coordinator)
    page(client, published)
    ReportItem.objects.filter(meeting=published).update(text="改過（無訊號）")  # bypasses signals
    cache.delete_many(  # an eviction of both counters (or a flushed cache)
        [
            fragments._counter(minutes_cache.SHARED),
            fragments._counter(minutes_cache.meeting_counter(published.pk)),
        ]
    )
    assert "改過（無訊號）" in page(client, published)


def test_the_counter_moves_again_when_the_change_commits(
    published, bureau, django_capture_on_commit_callbacks
):
    name = minutes_cache.meeting_counter(published.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        before = fragments.generations(name)
        minutes_changed_at_once = minutes_cache.minutes_changed(published) or fragments.generations(
            name
        )
    assert minutes_changed_at_once != before
    for callback in callbacks:
        callback()
    assert fragments.generations(name) != minutes_changed_at_once


def search_page(client, q):
    response = client.get(reverse("meetings:search"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_search_results_are_cached_until_the_index_changes(
    login, coordinator, bureau, published, monkeypatch
):
    client = login(coordinator)
    calls = []
    real = selectors.search
    monkeypatch.setattr(selectors, "search", lambda q, **kw: calls.append(q) or real(q, **kw))
    assert "<mark>資安</mark>" in search_page(client, "資安")
    search_page(client, "資安")
    assert calls == ["資安"]
    assert "找到 0 筆" in search_page(client, "測試新詞")
    item = ReportItem.objects.filter(meeting=published, parent__isnull=False).first()
    services.report_item_update(item=item, user=bureau, text="加入測試新詞一則", reason="補充")
    assert "<mark>測試新詞</mark>" in search_page(client, "測試新詞")


def test_a_deleted_meeting_leaves_the_cached_results(login, coordinator, bureau, divisions):
    # minutes whose motions open no tracked items (which would keep the meeting from deletion)
    meeting = services.meeting_import(
        text="109 年度 3 月份聯席會議紀錄\n會議時間：109 年 3 月 10 日\n捌、業務報告：\n"
        "一、網管資安組：\n(一)資安通報演練。\n拾壹、散會\n",
        user=bureau,
        publish=True,
    )
    cache.clear()
    client = login(coordinator)
    assert "<mark>資安</mark>" in search_page(client, "資安")
    meeting.delete()
    assert "找到 0 筆" in search_page(client, "資安")


def test_the_home_page_shows_newly_published_minutes(login, coordinator, bureau, divisions):
    from datetime import date

    client = login(coordinator)
    assert "測試會議（首頁）" not in client.get("/").content.decode()  # the block, now cached
    meeting = services.meeting_create(
        user=bureau, title="測試會議（首頁）", held_on=date(2020, 1, 14)
    )
    services.meeting_publish(meeting=meeting, user=bureau)
    assert "測試會議（首頁）" in client.get("/").content.decode()


def test_the_cached_list_shows_a_new_meeting_and_keeps_drafts_from_coordinators(
    login, coordinator, bureau, divisions
):
    from datetime import date

    from django.test import Client

    reader, clerk = Client(), Client()
    reader.force_login(coordinator)
    clerk.force_login(bureau)
    url = reverse("meetings:list") + "?year=109"
    assert "測試會議（列表）" not in reader.get(url).content.decode()  # cached now
    meeting = services.meeting_create(
        user=bureau, title="測試會議（列表）", held_on=date(2020, 2, 11)
    )
    assert "測試會議（列表）" in clerk.get(url).content.decode()  # a draft: staff only
    assert "測試會議（列表）" not in reader.get(url).content.decode()
    services.meeting_publish(meeting=meeting, user=bureau)
    assert "測試會議（列表）" in reader.get(url).content.decode()
