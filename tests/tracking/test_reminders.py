"""The beat job that reminds each division, before a meeting, of items lacking a 現辦理情形."""

from datetime import date

import pytest
from django.conf import settings
from django.core import mail

from tracking import services
from tracking.models import Reminder, TrackedItem
from tracking.tasks import send_status_reminders


@pytest.fixture
def october(imported_seed, make_meeting, platform, promotion):
    TrackedItem.objects.filter(case_no="108-09-01").update(division=platform)
    TrackedItem.objects.filter(case_no="108-09-02").update(division=promotion)
    platform.email, promotion.email = "platform@ntpc.edu.tw", "promo@ntpc.edu.tw"
    platform.save()
    promotion.save()
    meeting = make_meeting(date(2019, 10, 15))
    services.meeting_saved(meeting=meeting)
    return meeting


def test_each_division_is_reminded_once_of_its_missing_statuses(
    october, platform_clerk, promotion_clerk
):
    services.status_update_post(
        item=TrackedItem.objects.get(case_no="108-09-02"), user=promotion_clerk, text="已填"
    )
    sent = services.reminders_send(today=date(2019, 10, 10))
    assert [(m.pk, d.name) for m, d in sent] == [(october.pk, "系統平臺組")]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["platform-clerk@ntpc.edu.tw", "platform@ntpc.edu.tw"]
    assert "108-09-01" in message.body and "108-09-02" not in message.body
    assert "108/10/15" in message.subject
    # the second run (beat fires every morning) sends nothing more
    assert services.reminders_send(today=date(2019, 10, 11)) == []
    assert len(mail.outbox) == 1
    assert Reminder.objects.get().case_numbers == ["108-09-01"]


def test_no_reminder_long_before_the_meeting_or_after_it(october, platform_clerk):
    days = settings.TRACKING_REMINDER_DAYS_BEFORE
    assert (
        services.reminders_send(today=date.fromordinal(october.held_on.toordinal() - days - 1))
        == []
    )
    assert services.reminders_send(today=date(2019, 10, 16)) == []
    assert mail.outbox == []


def test_the_beat_schedule_runs_the_task_every_morning():
    entry = settings.CELERY_BEAT_SCHEDULE["tracking-status-reminders"]
    assert entry["task"] == send_status_reminders.name
    assert entry["schedule"].hour == {8}


def test_the_task_runs_the_service(october, platform_clerk, time_machine):
    time_machine.move_to("2019-10-14 08:00 +0800")
    assert send_status_reminders.delay().get() == 2
