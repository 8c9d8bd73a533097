"""Whole pages kept for everyone with the same roles (portal/pages.py): who shares a page, what
is filled in per reader, and what is never kept."""

import logging
import re

import pytest
from django.contrib.messages import INFO
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from portal import fragments, navigation
from portal.pages import NAME_MARK, shared_page
from tests import factories

PAGE = engines["django"].from_string(
    '<p class="who">{% person_name %}</p><form method="post">{% csrf_token %}</form>'
    "<p>{{ shown }}</p>"
)


def who(html):
    return re.search(r'<span class="who">([^<]*)</span>', html).group(1)


def csrf_values(html):
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', html)


@pytest.fixture
def neighbour(xindian_school):
    """Another coordinator of the same school: the same roles as `coordinator`."""
    return factories.coordinator_of(xindian_school, username="xd-neighbour", full_name="王小明")


def test_a_reader_with_the_same_roles_gets_the_kept_page_with_their_own_name(
    client, coordinator, neighbour
):
    client.force_login(coordinator)
    first = client.get("/meetings/").content.decode()
    assert who(first) == coordinator.display_name

    other = Client()
    other.force_login(neighbour)
    with CaptureQueriesContext(connection) as queries:
        kept = other.get("/meetings/").content.decode()
    assert len(queries) == 1, "only the session with the person: the page came from the cache"
    assert who(kept) == "王小明"
    assert coordinator.display_name not in kept
    assert NAME_MARK not in kept
    assert kept.replace("王小明", "") == first.replace(coordinator.display_name, "").replace(
        csrf_values(first)[0], csrf_values(kept)[0]
    ).replace("王小明", ""), "the same page but for the name and the token"


def test_the_kept_pages_csrf_token_is_the_readers_own(client, coordinator, neighbour):
    client.force_login(coordinator)
    client.get("/meetings/")
    reader = Client(enforce_csrf_checks=True)
    reader.force_login(neighbour)
    page = reader.get("/meetings/").content.decode()
    (token,) = set(csrf_values(page))
    assert token
    assert reader.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert reader.get("/people/").status_code == 302  # logged out: the token was accepted


def test_readers_with_other_roles_get_their_own_page(
    client, coordinator, other_coordinator, bureau
):
    client.force_login(coordinator)
    assert "新店國小" in client.get("/").content.decode()
    other = Client()
    other.force_login(other_coordinator)
    theirs = other.get("/").content.decode()
    assert "江翠國中" in theirs
    assert "新店國小" not in theirs
    staff = Client()
    staff.force_login(bureau)
    assert "人員與邀請" in staff.get("/").content.decode()
    assert "人員與邀請" not in client.get("/").content.decode()


def test_a_role_taken_counts_from_the_next_request(client, coordinator, neighbour):
    from portal.models import Membership

    client.force_login(coordinator)
    client.get("/meetings/")
    other = Client()
    other.force_login(neighbour)
    assert other.get("/meetings/").status_code == 200
    Membership.objects.filter(user=neighbour).delete()
    assert "等待核准" in other.get("/meetings/").content.decode()


def test_a_message_waiting_is_shown_not_a_kept_page(client, coordinator, neighbour):
    client.force_login(coordinator)
    client.get("/meetings/")
    other = Client()
    other.force_login(neighbour)
    waiting = CookieStorage(RequestFactory().get("/"))  # as a view's messages.success() leaves it
    waiting.add(INFO, "已儲存。")
    carrier = HttpResponse()
    waiting.update(carrier)
    other.cookies["messages"] = carrier.cookies["messages"].value
    assert "已儲存。" in other.get("/meetings/").content.decode()
    assert "已儲存。" not in other.get("/meetings/").content.decode()  # shown once


# --- the decorator itself -----------------------------------------------------------------------


@pytest.fixture
def view_calls():
    return []


def make_view(view_calls, *, status=200, counters=("test:page",), used=(), cookie=False):
    @shared_page(lambda request: counters)
    def view(request):
        view_calls.append(request.user.username)
        for name in used:  # a fragment built inside, depending on `name`
            fragments.fragment(("inner", name), (name,), lambda: "inner")
        response = HttpResponse(
            PAGE.render({"shown": "內容"}, request), status=status, content_type="text/html"
        )
        if cookie:
            response.set_cookie("mine", "1")
        return response

    return view


def get(user, path="/shared-test/"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = CacheSessionStore()
    return request


def test_a_page_is_built_once_for_an_audience(coordinator, neighbour, view_calls):
    view = make_view(view_calls)
    first = view(get(coordinator)).content.decode()
    second = view(get(neighbour)).content.decode()
    assert view_calls == [coordinator.username]
    assert '<p class="who">王小明</p>' in second
    assert coordinator.display_name in first


@pytest.mark.parametrize(
    "kind", [{"status": 403}, {"status": 404}, {"status": 302}, {"cookie": True}]
)
def test_refusals_redirects_and_pages_with_cookies_are_never_kept(
    coordinator, neighbour, view_calls, kind
):
    view = make_view(view_calls, **kind)
    view(get(coordinator))
    view(get(neighbour))
    assert view_calls == [coordinator.username, neighbour.username]


@pytest.mark.parametrize("kind", [{"status": 403}, {"cookie": True}])
def test_a_page_that_is_not_kept_still_shows_the_readers_name(coordinator, view_calls, kind):
    html = make_view(view_calls, **kind)(get(coordinator)).content.decode()
    assert f'<p class="who">{coordinator.display_name}</p>' in html
    assert NAME_MARK not in html


def test_people_without_a_role_and_other_methods_are_not_served_kept_pages(
    coordinator, view_calls, db
):
    view = make_view(view_calls)
    view(get(coordinator))
    newcomer = factories.UserFactory(username="no-role-yet")
    view(get(newcomer))
    post = RequestFactory().post("/shared-test/")
    post.user, post.session = coordinator, CacheSessionStore()
    view(post)
    assert view_calls == [coordinator.username, "no-role-yet", coordinator.username]


def test_a_reader_with_messages_waiting_gets_a_page_built_for_them(
    coordinator, neighbour, view_calls
):
    view = make_view(view_calls)
    view(get(coordinator))
    request = get(neighbour)
    request._messages = FallbackStorage(request)
    request._messages.add(INFO, "已儲存。")
    view(request)
    assert view_calls == [coordinator.username, neighbour.username]


def test_a_change_of_a_named_counter_drops_the_page(coordinator, neighbour, view_calls):
    view = make_view(view_calls)
    view(get(coordinator))
    fragments.changed("test:page")
    view(get(neighbour))
    assert view_calls == [coordinator.username, neighbour.username]


def test_a_page_whose_fragment_uses_an_unnamed_counter_is_not_kept(
    coordinator, neighbour, view_calls, caplog
):
    view = make_view(view_calls, used=("test:page", "test:elsewhere"))
    with caplog.at_level(logging.ERROR, logger="portal.pages"):
        view(get(coordinator))
    view(get(neighbour))
    assert view_calls == [coordinator.username, neighbour.username]
    assert "test:elsewhere" in caplog.text


def test_the_readers_name_is_escaped(coordinator, xindian_school, view_calls):
    view = make_view(view_calls)
    view(get(coordinator))
    odd = factories.coordinator_of(xindian_school, username="odd", full_name="<b>林</b>&")
    html = view(get(odd)).content.decode()
    assert '<p class="who">&lt;b&gt;林&lt;/b&gt;&amp;</p>' in html


def test_the_home_page_is_not_kept_while_a_block_is_built_every_time(monkeypatch):
    assert navigation.home_counters()  # every block of the apps has counters
    uncached = navigation.HomeBlock(fn=lambda request: None, order=99)
    monkeypatch.setattr(navigation, "_home_blocks", [*navigation._home_blocks, uncached])
    assert navigation.home_counters() is None


# --- pages that turn every minute: one reader builds, the others get the last minute's ------------


@pytest.fixture
def minute():
    return {"now": 100}


def make_timed_view(view_calls, minute):
    @shared_page(lambda request: ("test:page",), period=lambda request: minute["now"])
    def view(request):
        view_calls.append((request.user.username, minute["now"]))
        return HttpResponse(
            PAGE.render({"shown": f"第 {minute['now']} 分"}, request), content_type="text/html"
        )

    return view


def test_the_first_reader_of_a_new_minute_builds_its_page_and_the_next_ones_share_it(
    coordinator, neighbour, xindian_school, view_calls, minute
):
    third = factories.coordinator_of(xindian_school, username="xd-third")
    view = make_timed_view(view_calls, minute)
    view(get(coordinator))
    minute["now"] = 101
    assert "第 101 分" in view(get(neighbour)).content.decode()  # claimed the build, built it
    assert "第 101 分" in view(get(third)).content.decode()
    assert view_calls == [(coordinator.username, 100), (neighbour.username, 101)]


def test_while_the_new_minute_is_claimed_readers_are_served_at_once(
    coordinator, neighbour, view_calls, minute, monkeypatch
):
    view = make_timed_view(view_calls, minute)
    view(get(coordinator))
    minute["now"] = 101
    monkeypatch.setattr(fragments.cache, "add", lambda *args, **kwargs: False)  # claimed
    page = view(get(neighbour)).content.decode()
    assert "第 100 分" in page and '<p class="who">王小明</p>' in page
    assert view_calls == [(coordinator.username, 100)]


def test_a_change_is_never_served_stale_and_nor_is_an_old_page(
    coordinator, neighbour, view_calls, minute, monkeypatch
):
    view = make_timed_view(view_calls, minute)
    view(get(coordinator))
    monkeypatch.setattr(fragments.cache, "add", lambda *args, **kwargs: False)  # always claimed
    minute["now"] = 101
    fragments.changed("test:page")
    assert "第 101 分" in view(get(neighbour)).content.decode()
    minute["now"] = 101 + fragments.STALE_PERIODS + 1
    assert f"第 {minute['now']} 分" in view(get(coordinator)).content.decode()
    assert [m for _, m in view_calls] == [100, 101, 101 + fragments.STALE_PERIODS + 1]
