"""The iCalendar feed and the home block never tell coordinators what a draft says: they see
published minutes and the meetings the bureau marked as announced (已公告), nothing else."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from meetings import services
from meetings.models import Meeting

SOON = "2020-03-01 09:00 +0800"


@pytest.fixture
def coming(divisions, bureau):
    """Three meetings after 2020/3/1: a quiet draft, an announced draft, published minutes."""

    def make(title, held_on, **fields):
        return services.meeting_create(
            user=bureau, title=title, held_on=held_on, place=f"{title}的地點", **fields
        )

    quiet = make("草擬中的會議", date(2020, 3, 10), chair_remarks="尚未定案的致詞")
    announced = make("已公告的會議", date(2020, 4, 14), announced=True)
    published = services.meeting_publish(
        meeting=make("已發布的會議", date(2020, 5, 12)), user=bureau
    )
    return quiet, announced, published


def calendar(client, user):
    client.force_login(user)
    client.get(reverse("meetings:subscribe"))  # creates the user's feed key
    key = user.meetings_feed_key.key
    client.logout()
    with time_machine.travel(SOON):
        return client.get(reverse("meetings:calendar", args=[key])).content.decode()


def test_a_coordinators_calendar_shows_only_published_and_announced_meetings(
    client, coordinator, coming
):
    quiet, announced, published = coming
    ics = calendar(client, coordinator)
    assert ics.count("BEGIN:VEVENT") == 2
    assert "SUMMARY:已公告的會議" in ics and "LOCATION:已公告的會議的地點" in ics
    assert "SUMMARY:已發布的會議" in ics
    assert "草擬中的會議" not in ics and f"meeting-{quiet.pk}@" not in ics
    # the announced draft is told by name, time and place; its page would refuse them
    assert f"/meetings/{announced.pk}/" not in ics
    assert f"/meetings/{published.pk}/" in ics


def test_conveners_see_the_same_as_coordinators(client, convener, coming):
    ics = calendar(client, convener)
    assert ics.count("BEGIN:VEVENT") == 2 and "草擬中的會議" not in ics


def test_bureau_staff_see_every_coming_meeting(client, bureau, coming):
    quiet, announced, _published = coming
    ics = calendar(client, bureau)
    assert ics.count("BEGIN:VEVENT") == 3
    assert "SUMMARY:草擬中的會議" in ics and f"/meetings/{announced.pk}/" in ics


def test_the_home_block_names_the_next_meeting_only_when_announced(
    login, coordinator, bureau, coming
):
    quiet, announced, _published = coming
    with time_machine.travel(SOON):
        html = login(coordinator).get("/").content.decode()
        assert "下次會議：已公告的會議" in html and "草擬中的會議" not in html
        assert "下次會議：草擬中的會議" in login(bureau).get("/").content.decode()


def test_bureau_staff_announce_a_draft_on_the_edit_page(login, bureau, coordinator, coming):
    quiet, *_ = coming
    client = login(bureau)
    html = client.get(reverse("meetings:edit", args=[quiet.pk])).content.decode()
    assert "已公告" in html and 'name="announced"' in html
    data = {"title": quiet.title, "held_on": "109/3/10", "start_time": "14:00",
            "adjourned_time": "", "place": quiet.place, "chair": "", "recorder": "",
            "attendance_note": "詳簽到表", "chair_remarks": "略", "announced": "on"}  # fmt: skip
    assert client.post(reverse("meetings:edit", args=[quiet.pk]), data).status_code == 302
    assert Meeting.objects.get(pk=quiet.pk).announced
    client.logout()
    ics = calendar(client, coordinator)
    assert "SUMMARY:草擬中的會議" in ics and "DTSTART:20200310T060000Z" in ics
    assert "尚未定案的致詞" not in ics  # a draft's text never reaches the calendar
