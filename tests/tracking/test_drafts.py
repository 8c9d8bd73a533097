"""The tracking tables of draft minutes are bureau staff's until they are published.

The content itself is checked by tests/security/test_draft_leaks.py; here what no marked string
shows: the state a draft's decision gives an item, the existence of an item a draft's motion
opens, and who is e-mailed about it."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from meetings import services as meetings
from meetings.models import Motion
from tracking import services
from tracking.models import Subscription, TrackedItem

TRACK = "本案列為下次會議追蹤列管事項。"


@pytest.fixture
def draft(imported_seed, make_meeting):
    """The October meeting, still a draft, with the seed's open items carried into it."""
    meeting = make_meeting(date(2019, 10, 15), draft=True)
    services.meeting_saved(meeting=meeting)
    return meeting


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _decide(meeting, case_no, decision, user, **kwargs):
    review = meeting.tracking_reviews.get(item__case_no=case_no)
    services.review_decide(review=review, decision=decision, user=user, **kwargs)


def _badges(client, case_no):
    page = client.get(reverse("tracking:item", args=[case_no])).content.decode()
    return page.split('class="tracking-main"')[0]


def test_an_item_closed_by_a_draft_stays_open_for_members_until_publication(
    coordinator, bureau, draft
):
    _decide(draft, "108-09-02", "close", bureau)
    member, staff = _client(coordinator), _client(bureau)
    assert "列管中" in _badges(member, "108-09-02") and "已解列" not in _badges(member, "108-09-02")
    assert "108-09-02" in member.get(reverse("tracking:list"), {"state": "open"}).content.decode()
    closed = member.get(reverse("tracking:list"), {"state": "closed"}).content.decode()
    assert "108-09-02" not in closed
    assert "已解列" in _badges(staff, "108-09-02")  # bureau staff see the decision at once

    meetings.meeting_publish(meeting=draft, user=bureau)

    assert "已解列" in _badges(member, "108-09-02")
    assert "108-09-02" in member.get(reverse("tracking:list"), {"state": "closed"}).content.decode()


def test_an_item_merged_by_a_draft_is_not_shown_merged_or_linked(login, coordinator, bureau, draft):
    _decide(draft, "108-09-02", "merge", bureau, merge_into="108-09-01")
    page = login(coordinator).get(reverse("tracking:item", args=["108-09-01"])).content.decode()
    assert "併入本案的事項" not in page
    page = login(coordinator).get(reverse("tracking:item", args=["108-09-02"])).content.decode()
    assert "已併案" not in page and "併入" not in page.split("歷程")[0]


def test_an_item_a_draft_opens_does_not_exist_for_members(login, coordinator, bureau, draft):
    meetings.motion_add(
        meeting=draft, user=bureau, kind=Motion.Kind.EXTEMPORE, subject="新的提案", resolution=TRACK
    )
    item = TrackedItem.objects.get(origin_meeting=draft)
    member = login(coordinator)
    assert member.get(item.get_absolute_url()).status_code == 404
    assert member.post(reverse("tracking:subscribe", args=[item.case_no])).status_code == 404
    assert not Subscription.objects.exists()
    assert login(bureau).get(item.get_absolute_url()).status_code == 200

    meetings.meeting_publish(meeting=draft, user=bureau)

    assert member.get(item.get_absolute_url()).status_code == 200
    assert member.post(reverse("tracking:subscribe", args=[item.case_no])).status_code == 302


def test_subscribers_hear_of_an_item_a_draft_opened_only_once_it_is_published(
    coordinator, bureau, draft, mailoutbox, django_capture_on_commit_callbacks
):
    meetings.motion_add(
        meeting=draft, user=bureau, kind=Motion.Kind.EXTEMPORE, subject="新的提案", resolution=TRACK
    )
    item = TrackedItem.objects.get(origin_meeting=draft)
    # subscribed before the rule (or by any other way in): still not told
    Subscription.objects.create(item=item, user=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        services.status_update_post(item=item, user=bureau, text="草稿期間的辦理情形")
    assert mailoutbox == []

    meetings.meeting_publish(meeting=draft, user=bureau)
    with django_capture_on_commit_callbacks(execute=True):
        services.status_update_post(item=item, user=bureau, text="發布後的辦理情形")
    assert [m.to for m in mailoutbox if "發布後的辦理情形" in m.body] == [[coordinator.email]]
