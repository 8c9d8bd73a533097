"""The bureau's side: the grid of every school, returns, reminders (button and beat)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from portal.models import School
from signups import services, tasks
from signups.models import Reminder, Response, Status, StatusChange
from signups.schedule import BEAT_SCHEDULE
from tests import factories
from tests.signups.conftest import GOOD_ROW, table_post


def file_as(client, survey, school, rows, action="submit"):
    return client.post(
        reverse("signups:file", args=[survey.pk, school.pk]), table_post(rows, action=action)
    )


def test_the_grid_shows_every_school_by_district_with_its_state(
    login, coordinator, bureau, xindian_school, beixin_school, jiangcui_school, survey
):
    file_as(login(coordinator), survey, xindian_school, [GOOD_ROW])
    page = login(bureau).get(reverse("signups:grid", args=[survey.pk])).content.decode()
    xindian = page[page.index('data-school="新店國小"') :][:400]
    beixin = page[page.index('data-school="北新國小"') :][:400]
    assert "已送出" in xindian and "1 列" in xindian
    assert "未填" in beixin
    assert "文山分區（已回覆 1 / 2）" in page and "板橋分區（已回覆 0 / 1）" in page


def test_the_grid_and_the_rows_are_for_bureau_staff_only(login, coordinator, survey):
    client = login(coordinator)
    for name in ("grid", "rows", "export"):
        assert client.get(reverse(f"signups:{name}", args=[survey.pk])).status_code == 403
    assert client.post(reverse("signups:remind", args=[survey.pk])).status_code == 403


def _schools(n):
    districts = [factories.DistrictFactory(name=f"分區{d}", position=d) for d in range(9)]
    return [factories.SchoolFactory(code=f"G{i:05d}", district=districts[i % 9]) for i in range(n)]


@pytest.mark.parametrize("n", [30, 300])
def test_the_grid_makes_a_fixed_number_of_queries(
    login, bureau, survey, n, django_assert_num_queries
):
    schools = _schools(n)
    for school in schools[::3]:  # a third have answered something, with rows
        response = services.response_get(survey=survey, school=school)
        Response.objects.filter(pk=response.pk).update(status=Status.SUBMITTED)
    client = login(bureau)
    client.get(reverse("signups:grid", args=[survey.pk]))  # warm the session
    cache.clear()  # the grid is a cached fragment: count building it first
    # session, user, roles; survey, responses (with row counts), schools (with districts); the
    # unanswered schools no reminder can reach
    with django_assert_num_queries(7):
        r = client.get(reverse("signups:grid", args=[survey.pk]))
    assert r.content.decode().count("data-school=") == School.objects.count()
    # then session, user, roles, the survey and the unreachable schools; the grid from the cache
    with django_assert_num_queries(5):
        r = client.get(reverse("signups:grid", args=[survey.pk]))
    assert r.content.decode().count("data-school=") == School.objects.count()


def test_returning_a_submission_records_why_and_emails_the_coordinator(
    login, coordinator, bureau, xindian_school, survey, django_capture_on_commit_callbacks
):
    file_as(login(coordinator), survey, xindian_school, [GOOD_ROW])
    client = login(bureau)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signups:return", args=[survey.pk, xindian_school.pk]),
                    {"comment": "請補上活動地點的教室名稱。"})  # fmt: skip
    response = Response.objects.get()
    assert response.status == Status.RETURNED
    change = StatusChange.objects.get(event="returned")
    assert (change.old_status, change.by, change.note) == (
        "submitted",
        bureau,
        "請補上活動地點的教室名稱。",
    )
    assert change.notified_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [coordinator.email]
    assert "請補上活動地點的教室名稱。" in mail.outbox[0].body
    assert "退回" in mail.outbox[0].subject
    # the coordinator sees why, and may edit again
    page = login(coordinator).get(reverse("signups:file", args=[survey.pk, xindian_school.pk]))
    assert "請補上活動地點的教室名稱。" in page.content.decode()


def test_the_return_notice_is_sent_once_even_if_the_task_runs_twice(
    coordinator, bureau, xindian_school, survey
):
    response = services.response_get(survey=survey, school=xindian_school)
    response.status = Status.SUBMITTED
    response.save()
    change = services.response_return(response=response, by=bureau, comment="請修正")
    assert tasks.send_return_notice(change.pk) is True
    assert tasks.send_return_notice(change.pk) is False
    assert len(mail.outbox) == 1


def test_a_return_without_a_reason_is_refused(bureau, xindian_school, survey):
    response = services.response_get(survey=survey, school=xindian_school)
    response.status = Status.SUBMITTED
    response.save()
    with pytest.raises(services.SignupError, match="退回原因"):
        services.response_return(response=response, by=bureau, comment=" ")


def test_the_reminder_button_mails_only_schools_that_have_not_answered_and_once_a_day(
    login, coordinator, bureau, xindian_school, beixin_school, jiangcui_school, survey,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    factories.coordinator_of(beixin_school, email="it@psps.ntpc.edu.tw")
    file_as(login(coordinator), survey, xindian_school, [GOOD_ROW])
    client = login(bureau)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signups:remind", args=[survey.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signups:remind", args=[survey.pk]))
    # 江翠國中 has no coordinator: no reminder row, since nothing could be sent
    assert list(Reminder.objects.values_list("school__name", flat=True)) == ["北新國小"]
    assert [m.to for m in mail.outbox] == [["it@psps.ntpc.edu.tw"]]
    assert "北新國小" in mail.outbox[0].body


def test_the_beat_task_reminds_n_days_before_the_deadline_once(
    beixin_school, survey, django_capture_on_commit_callbacks
):
    factories.coordinator_of(beixin_school)
    assert tasks.remind_before_deadline() == 0  # 10 days left, reminder at 3
    survey.closes_at = timezone.now() + timedelta(days=2)
    survey.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_before_deadline() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_before_deadline() == 0
    assert Reminder.objects.get().kind == "auto-3d"
    assert len(mail.outbox) == 1
    assert (
        BEAT_SCHEDULE["signups-remind-before-deadline"]["task"] == tasks.remind_before_deadline.name
    )


def test_a_reminder_claimed_by_one_worker_is_not_sent_again(beixin_school, survey):
    factories.coordinator_of(beixin_school)
    reminder = Reminder.objects.create(survey=survey, school=beixin_school, kind="manual-x")
    assert tasks.send_reminder(reminder.pk) is True
    assert tasks.send_reminder(reminder.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("copy", ["abc", "-1", "9" * 30, "1\x00"])
def test_copying_from_a_survey_that_is_not_there_is_a_404(login, bureau, copy):
    response = login(bureau).get(reverse("signups:create"), {"copy": copy})
    # a NUL byte is refused for the whole request (400) before the view looks anything up
    assert response.status_code == (400 if "\x00" in copy else 404)


def test_the_bureau_creates_the_next_survey_of_the_same_kind_without_code(login, bureau, survey):
    client = login(bureau)
    page = client.get(reverse("signups:create") + f"?copy={survey.pk}").content.decode()
    assert "109" in page  # next school year prefilled
    r = client.post(reverse("signups:create"), {
        "title": "110年度寒假青少年休閒育樂活動開辦調查表", "opens_at": "109/9/1 08:00",
        "closes_at": "109/9/30 17:00", "school_year": "109", "categories": "技能研習",
        "window_label": "寒假", "activity_starts_on": "110/1/20", "activity_ends_on": "110/2/15",
        "blackouts_text": "110/2/10~2/16 除夕及春假", "registration_before_activity": "on",
        "reminder_days_before": "3",
    })  # fmt: skip
    assert r.status_code == 302
    from signups.models import Survey

    new = Survey.objects.get(title__startswith="110")
    assert new.rules().blackouts[0].label == "除夕及春假"
    assert new.rules().blackouts[0].start.isoformat() == "2021-02-10"


def _grid_row(client, survey, school_name):
    page = client.get(reverse("signups:grid", args=[survey.pk])).content.decode()
    return page[page.index(f'data-school="{school_name}"') :][:400]


def test_the_cached_grid_shows_a_submission_at_once(coordinator, bureau, xindian_school, survey):
    from django.test import Client

    staff, school = Client(), Client()
    staff.force_login(bureau)
    school.force_login(coordinator)
    assert "未填" in _grid_row(staff, survey, "新店國小")  # now cached
    file_as(school, survey, xindian_school, [GOOD_ROW], action="save")
    assert "草稿" in _grid_row(staff, survey, "新店國小")
    file_as(school, survey, xindian_school, [GOOD_ROW, GOOD_ROW], action="save")  # 草稿 again
    assert "2 列" in _grid_row(staff, survey, "新店國小")


def test_the_cached_grid_shows_a_renamed_school(login, bureau, xindian_school, survey):
    staff = login(bureau)
    assert "新店國小" in _grid_row(staff, survey, "新店國小")
    xindian_school.name = "新店區新店國民小學"
    xindian_school.save()
    assert "新店區新店國民小學" in _grid_row(staff, survey, "新店區新店國民小學")


def test_the_cached_home_block_shows_the_schools_new_state(coordinator, xindian_school, survey):
    from django.test import Client

    school = Client()
    school.force_login(coordinator)

    def block():
        page = school.get("/").content.decode()
        return page[page.index('id="block-signups"') :].split("</section>")[0]

    assert survey.title in block() and '新店國小：<span class="badge badge-muted">未填' in block()
    file_as(school, survey, xindian_school, [GOOD_ROW])
    assert '新店國小：<span class="badge badge-ok">已送出' in block()


def test_reminders_say_who_was_reached_and_list_the_schools_no_one_can_be_reached_at(
    login, bureau, beixin_school, jiangcui_school, xindian_school, survey,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    factories.coordinator_of(beixin_school, email="it@psps.ntpc.edu.tw")
    factories.coordinator_of(xindian_school, email="")  # a coordinator with no address
    client = login(bureau)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("signups:remind", args=[survey.pk]), follow=True)
    page = r.content.decode()
    assert "已寄出提醒給 1 所尚未回覆的學校。" in page
    assert "2 所學校沒有可收信的資訊組長，未寄出：江翠國中、新店國小。" in page
    section = page[page.index('id="no-one"') :]
    assert "沒有人可收提醒的學校（2）" in section and "江翠國中" in section
    assert f'href="{reverse("people")}#invite-h"' in section
    assert len(mail.outbox) == 1

    # once 江翠國中 has someone, the same day's round reaches it, and only it
    factories.coordinator_of(jiangcui_school, email="it@jcjh.ntpc.edu.tw")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("signups:remind", args=[survey.pk]), follow=True)
    page = r.content.decode()
    assert "已寄出提醒給 1 所尚未回覆的學校。" in page
    assert "1 所學校沒有可收信的資訊組長，未寄出：新店國小。" in page
    assert [m.to for m in mail.outbox][1] == ["it@jcjh.ntpc.edu.tw"]


def test_downloads_are_named_in_chinese(login, bureau, xindian_school, survey):
    from urllib.parse import quote

    client = login(bureau)
    r = client.get(reverse("signups:export", args=[survey.pk]))
    assert f"filename*=UTF-8''{quote(survey.title + '.xlsx')}" in r["Content-Disposition"]
    r = client.get(reverse("signups:template", args=[survey.pk, xindian_school.pk]))
    name = quote(f"{survey.title}（新店國小）.xlsx")
    assert f"filename*=UTF-8''{name}" in r["Content-Disposition"]
