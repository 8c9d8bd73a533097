"""The bureau edits a survey: the same fields and checks as creating one, blackouts as an inline
formset, and every edit recorded (who, when, each field's old and new value)."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from portal import rocdate
from portal.models import AuditEvent
from signups.models import Blackout, Survey, SurveyChange
from tests.signups.conftest import GOOD_ROW, table_post


def edit_url(survey):
    return reverse("signups:edit", args=[survey.pk])


def posted(survey, **changes):
    """The edit form as the page shows it for `survey`, with `changes` typed over it."""
    blackouts = list(survey.blackouts.all())
    data = {
        "title": survey.title, "instructions": survey.instructions, "meeting": "",
        "report_item": "", "opens_at": "", "closes_at": "", "contact": survey.contact,
        "school_year": str(survey.school_year), "categories": survey.categories,
        "window_label": survey.window_label, "activity_starts_on": "109/1/21",
        "activity_ends_on": "109/2/10", "registration_before_activity": "on",
        "reminder_days_before": str(survey.reminder_days_before),
        "blackouts-TOTAL_FORMS": str(len(blackouts) + 1),
        "blackouts-INITIAL_FORMS": str(len(blackouts)),
        "blackouts-MIN_NUM_FORMS": "0", "blackouts-MAX_NUM_FORMS": "20",
    }  # fmt: skip
    for name in ("opens_at", "closes_at"):
        data[name] = rocdate.format_short_datetime(timezone.localtime(getattr(survey, name)))
    for i, b in enumerate(blackouts):
        data |= {f"blackouts-{i}-id": str(b.pk), f"blackouts-{i}-survey": str(survey.pk),
                 f"blackouts-{i}-label": b.label, f"blackouts-{i}-starts_on": "109/1/23",
                 f"blackouts-{i}-ends_on": "109/1/29"}  # fmt: skip
    n = len(blackouts)
    data |= {f"blackouts-{n}-label": "", f"blackouts-{n}-starts_on": "",
             f"blackouts-{n}-ends_on": "", f"blackouts-{n}-survey": str(survey.pk)}  # fmt: skip
    data.update(changes)
    return data


def test_the_edit_page_is_for_bureau_staff_only(login, coordinator, convener, survey):
    for user in (coordinator, convener):
        assert login(user).get(edit_url(survey)).status_code == 403
        assert login(user).post(edit_url(survey), posted(survey, title="x")).status_code == 403
    assert Survey.objects.get().title == survey.title


def test_the_edit_page_shows_the_survey_as_it_is(login, bureau, survey):
    page = login(bureau).get(edit_url(survey)).content.decode()
    assert f'value="{survey.title}"' in page
    assert 'value="109/1/21"' in page and 'value="除夕及春假"' in page
    assert 'value="109/1/23"' in page
    assert "建立後尚未修改過" in page
    # the blank period for adding one may stay blank: it is not marked required
    blank = page[page.index("新增一段") :]
    assert 'for="id_blackouts-1-label">名稱</label>' in blank
    assert 'for="id_blackouts-0-label">名稱<span class="req"' in page


def test_the_bureau_changes_title_deadline_options_window_and_reminder_days(login, bureau, survey):
    r = login(bureau).post(edit_url(survey), posted(
        survey, title="109年度寒假育樂活動調查（更正）", closes_at="119/1/10 17:00",
        categories="技能研習\n營隊\n體驗活動", activity_ends_on="109/2/12",
        reminder_days_before="5", instructions="請於截止前送出。",
    ))  # fmt: skip
    assert r.status_code == 302 and r.url == reverse("signups:grid", args=[survey.pk])
    survey.refresh_from_db()
    assert survey.title == "109年度寒假育樂活動調查（更正）"
    assert survey.category_list == ["技能研習", "營隊", "體驗活動"]
    assert survey.activity_ends_on == date(2020, 2, 12)
    assert survey.reminder_days_before == 5
    assert survey.instructions == "請於截止前送出。"
    change = SurveyChange.objects.get()
    assert change.by == bureau
    by_field = {f["field"]: f for f in change.fields}
    assert set(by_field) == {"title", "closes_at", "categories", "activity_ends_on",
                             "reminder_days_before", "instructions"}  # fmt: skip
    assert (by_field["activity_ends_on"]["label"], by_field["activity_ends_on"]["old"],
            by_field["activity_ends_on"]["new"]) == ("活動期間結束", "109/2/10", "109/2/12")  # fmt: skip
    assert by_field["closes_at"]["new"].startswith("民國 119 年 1 月 10 日")
    assert (by_field["reminder_days_before"]["old"], by_field["reminder_days_before"]["new"]) == (
        "3",
        "5",
    )
    assert AuditEvent.objects.filter(action="signups.survey_edited").count() == 1


def test_the_history_shows_who_changed_what_and_when(login, bureau, survey):
    client = login(bureau)
    client.post(edit_url(survey), posted(survey, window_label="寒假期間"))
    page = client.get(edit_url(survey)).content.decode()
    history = page[page.index('id="survey-history"') :]
    assert bureau.display_name in history
    assert "<strong>活動期間名稱</strong>：寒假 → 寒假期間" in history
    assert "民國" in history  # when, in ROC form


def test_blackouts_are_added_changed_and_removed_in_the_inline_formset(login, bureau, survey):
    client = login(bureau)
    data = posted(survey, **{
        "blackouts-0-ends_on": "109/1/30",  # the holiday grows by a day
        "blackouts-1-label": "校慶補假", "blackouts-1-starts_on": "2/5", "blackouts-1-ends_on": "2/5",
    })  # fmt: skip
    assert client.post(edit_url(survey), data).status_code == 302
    assert list(Blackout.objects.values_list("label", "starts_on", "ends_on")) == [
        ("除夕及春假", date(2020, 1, 23), date(2020, 1, 30)),
        ("校慶補假", date(2020, 2, 5), date(2020, 2, 5)),  # a bare date read in 學年度 108
    ]
    change = SurveyChange.objects.get()
    assert change.fields == [{
        "field": "blackouts", "label": "不可辦理期間", "old": "除夕及春假（109/1/23～109/1/29）",
        "new": "除夕及春假（109/1/23～109/1/30）、校慶補假（109/2/5～109/2/5）",
    }]  # fmt: skip
    # the new rules apply to the next row filed
    survey.refresh_from_db()
    rules = survey.rules()
    assert [b.label for b in rules.blackouts] == ["除夕及春假", "校慶補假"]
    data = posted(survey, **{"blackouts-0-DELETE": "on", "blackouts-1-DELETE": "on"})
    assert client.post(edit_url(survey), data).status_code == 302
    assert not Blackout.objects.exists()
    assert SurveyChange.objects.count() == 2


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"closes_at": "89/1/1 08:00"}, "closes_at", "截止時間須晚於開放時間。"),
    ({"activity_ends_on": "109/1/1"}, "activity_ends_on", "活動期間結束日不可早於開始日。"),
    ({"activity_starts_on": "1/21"}, "activity_starts_on", "無法辨識日期"),
    ({"title": ""}, "title", "這個欄位是必須的"),
    ({"categories": "  "}, "categories", "這個欄位是必須的"),
    ({"reminder_days_before": "-1"}, "reminder_days_before", "0"),
    ({"blackouts-0-ends_on": "109/1/20"}, "blackouts-0-ends_on", "結束日不可早於開始日。"),
    ({"blackouts-0-starts_on": "春節"}, "blackouts-0-starts_on", "無法辨識日期「春節」"),
    ({"blackouts-1-label": "校慶補假"}, "blackouts-1-starts_on", "名稱、開始與結束都要填寫"),
])  # fmt: skip
def test_the_same_checks_as_creation_refuse_a_bad_edit_and_change_nothing(
    login, bureau, survey, changes, field, message
):
    r = login(bureau).post(edit_url(survey), posted(survey, **changes))
    assert r.status_code == 200
    page = r.content.decode()
    error = page[page.index(f'id="id_{field}_error"') :][:200]
    assert message in error
    assert "有些欄位需要修正" in page
    assert "Constraint" not in page and "違反" not in page  # no raw model constraint message
    assert not SurveyChange.objects.exists()
    fresh = Survey.objects.get()
    assert (fresh.closes_at, fresh.activity_ends_on, fresh.title) == (
        survey.closes_at,
        survey.activity_ends_on,
        survey.title,
    )
    assert Blackout.objects.get().ends_on == date(2020, 1, 29)


def test_saving_without_changes_records_nothing(login, bureau, survey):
    survey.instructions = "第一行\n第二行"
    survey.save()
    # as a browser posts it: textareas with CRLF line ends
    data = posted(survey, instructions="第一行\r\n第二行", categories="技能研習\r\n營隊")
    r = login(bureau).post(edit_url(survey), data, follow=True)
    assert "沒有任何變更" in r.content.decode()
    assert not SurveyChange.objects.exists()


def test_the_bureau_is_told_how_many_filed_rows_no_longer_fit(
    login, bureau, coordinator, xindian_school, survey
):
    login(coordinator).post(reverse("signups:file", args=[survey.pk, xindian_school.pk]),
                            table_post([GOOD_ROW], action="submit"))  # 2/3~4  # fmt: skip
    r = login(bureau).post(
        edit_url(survey), posted(survey, activity_ends_on="109/2/2"), follow=True
    )
    assert "有 1 列（1 校）不符合修改後的規則" in r.content.decode()
    # the school's rows are untouched; the school meets the new rule when it next saves
    r = login(coordinator).post(reverse("signups:file", args=[survey.pk, xindian_school.pk]),
                                table_post([GOOD_ROW], action="save", initial=1))  # fmt: skip
    assert "活動日期須在寒假期間（109/1/21~2/2）內。" in r.content.decode()


def test_rows_that_a_new_blackout_or_a_dropped_category_would_refuse_are_found(
    coordinator, bureau, xindian_school, beixin_school, survey
):
    from signups import services
    from signups.rules import clean_row

    for school, row in ((xindian_school, GOOD_ROW),
                        (beixin_school, {**GOOD_ROW, "category": "營隊", "activity": "2/8"})):  # fmt: skip
        response = services.response_get(survey=survey, school=school)
        services.offers_save(
            response=response, rows=[clean_row(row, survey.rules()).values], by=coordinator
        )
    assert services.offers_breaking_rules(survey) == []
    services.survey_update(
        survey=survey, by=bureau, fields={"categories": "技能研習"},
        blackouts=[("除夕及春假", date(2020, 1, 23), date(2020, 1, 29)),
                   ("校慶補假", date(2020, 2, 4), date(2020, 2, 4))],
    )  # fmt: skip
    survey.refresh_from_db()
    found = {
        o.response.school.name: messages for o, messages in services.offers_breaking_rules(survey)
    }
    assert found == {
        "新店國小": ["活動日期不可在校慶補假期間（109/2/4），請改期。"],
        "北新國小": ["類型「營隊」已不在選項中。"],
    }


def test_the_survey_form_reads_roc_times_and_shows_no_dashes(login, bureau, survey):
    page = login(bureau).get(edit_url(survey)).content.decode()
    assert "---------" not in page and "請選擇（可不填）" in page
    shown = rocdate.format_short_datetime(timezone.localtime(survey.closes_at))
    assert f'value="{shown}"' in page and 'type="datetime-local"' not in page


def test_a_close_date_without_a_time_means_five_in_the_afternoon(login, bureau, survey):
    r = login(bureau).post(edit_url(survey), posted(survey, closes_at="119/1/10"))
    assert r.status_code == 302
    closes = timezone.localtime(Survey.objects.get().closes_at)
    assert (closes.date(), closes.hour, closes.minute) == (date(2030, 1, 10), 17, 0)


def test_the_demo_survey_closes_at_five_in_the_afternoon_in_taipei(db):
    from portal.demo import load as load_portal_demo
    from signups.demo import load as load_signups_demo

    load_portal_demo()
    load_signups_demo()
    closes = timezone.localtime(Survey.objects.get().closes_at)
    assert (closes.hour, closes.minute) == (17, 0)  # not 上午 1 時 (17:00 UTC)
