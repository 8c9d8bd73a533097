"""The bureau adds, changes and removes a survey's rules on the columns review page: each rule's
kind, its columns (of a fitting type), its period in ROC dates, its limit; bad input is refused
field by field in Chinese with nothing saved; once schools have filed, a change that would refuse
a filed row is refused naming the schools and rows; the filing form then judges by the new rules."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from signups import columns, services
from signups.models import SurveyChange, SurveyColumn
from tests.signups.test_any_table import LAPTOPS, equipment, row_post  # noqa: F401

WINDOW = {"kind": "within", "column": "預計採購日期", "starts_on": "115/9/1",
          "ends_on": "115/10/31", "label": "採購"}  # fmt: skip


@pytest.fixture
def survey(equipment):  # noqa: F811
    # a second date column, for 「須早於另一欄」
    SurveyColumn.objects.create(survey=equipment, position=20, key="delivery", label="到貨日期",
                                type="date", required=False)  # fmt: skip
    return equipment


def key_of(survey, label):
    return next(c.key for c in survey.table()[0] if c.label == label)


def rules_post(survey, rows, initial=None):
    """The POST body of the rules formset: `rows` are dicts with column labels (not keys)."""
    stored = len(survey.table()[1]) if initial is None else initial
    data = {"rules-TOTAL_FORMS": str(len(rows)), "rules-INITIAL_FORMS": str(stored),
            "rules-MIN_NUM_FORMS": "0", "rules-MAX_NUM_FORMS": "30", "action": "rules"}  # fmt: skip
    for i, row in enumerate(rows):
        for name, value in row.items():
            if name in ("column", "other") and value:
                value = key_of(survey, value)
            data[f"rules-{i}-{name}"] = value
    return data


def url_of(survey):
    return reverse("signups:columns", args=[survey.pk])


def test_the_bureau_adds_a_rule_and_the_change_is_recorded(survey, login, bureau):
    client = login(bureau)
    page = client.get(url_of(survey)).content.decode()
    assert survey.table()[1] == [] and 'id="rules-form"' in page and "新增一條規則" in page
    assert '<option value="within">須在期間內</option>' in page
    # only date columns for the other side of 「須早於另一欄」, no text column anywhere
    assert '<optgroup label="日期欄位">' in page and ">聯絡人</option>" not in page

    r = client.post(url_of(survey), rules_post(survey, [WINDOW, {"kind": "max_rows",
                                                                 "limit": "5"}]))  # fmt: skip
    assert r.status_code == 302 and r.url.endswith("#rules")
    assert survey.table()[1] == [
        columns.Rule("within", key_of(survey, "預計採購日期"), start=date(2026, 9, 1),
                     end=date(2026, 10, 31), label="採購"),
        columns.Rule("max_rows", limit=5),
    ]  # fmt: skip
    change = SurveyChange.objects.get(survey=survey)
    assert change.by == bureau and change.fields == [{
        "field": "rules", "label": "規則", "old": "（無）",
        "new": "預計採購日期須在採購期間（115/9/1~10/31）內。最多填 5 列。"}]  # fmt: skip
    page = client.get(url_of(survey)).content.decode()
    assert "已更新規則。" in page and "<li>最多填 5 列。</li>" in page
    assert 'value="115/9/1"' in page  # the stored period is shown back in ROC dates
    # the same rules posted again change nothing
    r = client.post(url_of(survey), rules_post(survey, [WINDOW, {"kind": "max_rows",
                                                                 "limit": "5"}]), follow=True)  # fmt: skip
    assert "規則沒有任何變更。" in r.content.decode()
    assert SurveyChange.objects.filter(survey=survey).count() == 1


def test_the_bureau_edits_and_removes_rules(survey, login, bureau):
    client = login(bureau)
    client.post(url_of(survey), rules_post(survey, [WINDOW, {"kind": "max_rows", "limit": "5"}]))
    edited = {**WINDOW, "ends_on": "115/11/30"}
    removed = {"kind": "max_rows", "limit": "5", "DELETE": "on"}
    before = {"kind": "before", "column": "預計採購日期", "other": "到貨日期"}
    r = client.post(url_of(survey), rules_post(survey, [edited, removed, before]))
    assert r.status_code == 302
    purchase, delivery = key_of(survey, "預計採購日期"), "delivery"
    assert survey.table()[1] == [
        columns.Rule("within", purchase, start=date(2026, 9, 1), end=date(2026, 11, 30),
                     label="採購"),
        columns.Rule("before", purchase, other=delivery),
    ]  # fmt: skip
    last = SurveyChange.objects.filter(survey=survey).first()
    assert last.fields[0]["new"] == ("預計採購日期須在採購期間（115/9/1~11/30）內。"
                                     "預計採購日期須在到貨日期開始前截止。")  # fmt: skip
    # removing every rule
    rows = [{**edited, "DELETE": "on"}, {**before, "DELETE": "on"}]
    assert client.post(url_of(survey), rules_post(survey, rows)).status_code == 302
    assert survey.table()[1] == []
    assert "沒有規則。" in client.get(url_of(survey)).content.decode()


def test_only_a_saved_rule_has_a_delete_box(survey, login, bureau):
    client = login(bureau)
    page = client.get(url_of(survey)).content.decode()
    assert 'name="rules-0-kind"' in page and "DELETE" not in page  # the blank new rule only
    client.post(url_of(survey), rules_post(survey, [{"kind": "max_rows", "limit": "5"}]))
    page = client.get(url_of(survey)).content.decode()
    assert 'name="rules-0-DELETE"' in page and "刪除這條規則" in page
    assert 'name="rules-1-kind"' in page and 'name="rules-1-DELETE"' not in page
    # a delete mark posted for the new rule anyway (no such box) does not drop it
    rows = [{"kind": "max_rows", "limit": "5"}, {**WINDOW, "DELETE": "on"}]
    assert client.post(url_of(survey), rules_post(survey, rows)).status_code == 302
    assert [r.kind for r in survey.table()[1]] == ["max_rows", "within"]


def test_the_fields_are_grouped_and_marked_with_the_kinds_that_use_them(survey, login, bureau):
    page = login(bureau).get(url_of(survey)).content.decode()
    assert '<legend>欄位<span class="uses">（除「列數上限」外都使用）</span></legend>' in page
    assert (
        '<legend>期間<span class="uses">（僅「須在期間內」「不可在期間內」使用）</span></legend>'
        in page
    )
    assert (
        '<legend>上限<span class="uses">（僅「列數上限」「各列合計上限」使用）</span></legend>'
        in page
    )
    # a field whose kinds differ from its group's says so itself, read with the field
    assert '<p class="help uses" id="id_rules-0-other_uses">僅「須早於另一欄」使用</p>' in page
    assert 'aria-describedby="id_rules-0-other_helptext id_rules-0-other_uses"' in page
    assert page.count('class="help uses"') == 1
    # what the page's script reads to hide the fields a chosen kind does not use
    assert 'data-kinds="within outside before total"' in page and 'data-kinds="before"' in page
    assert 'data-group-kinds="within outside"' in page and 'data-kinds="max_rows total"' in page
    assert "signups/rules.js" in page and "<script>" not in page


def test_a_kind_is_judged_without_the_fields_the_page_left_unsent(survey, login, bureau):
    # the script disables the fields a kind does not use: they are not posted at all
    client = login(bureau)
    client.post(url_of(survey), rules_post(survey, [WINDOW]))
    switched = {"kind": "max_rows", "limit": "4"}  # column and period left unsent
    assert client.post(url_of(survey), rules_post(survey, [switched])).status_code == 302
    assert survey.table()[1] == [columns.Rule("max_rows", limit=4)]


def test_a_post_claiming_two_billion_rules_builds_at_most_thirty(survey, login, bureau):
    data = rules_post(survey, [])
    data["rules-TOTAL_FORMS"] = str(2**31)
    page = login(bureau).post(url_of(survey), data).content.decode()
    assert "每個調查最多 30 條規則。" in page
    assert 'name="rules-29-kind"' in page and 'name="rules-30-' not in page
    assert survey.table()[1] == []


@pytest.mark.parametrize(
    "row, field, message",
    [
        ({**WINDOW, "ends_on": "115/8/1"}, "ends_on", "期間結束日不可早於開始日。"),
        (
            {**WINDOW, "column": "數量"},
            "column",
            "「數量」是整數欄位，「須在期間內」只能用在日期或日期區間欄位。",
        ),
        ({**WINDOW, "starts_on": "115/2/30"}, "starts_on", "115/2/30"),
        ({**WINDOW, "starts_on": ""}, "starts_on", "「須在期間內」要填期間開始日。"),
        (
            {"kind": "outside", "starts_on": "115/9/1", "ends_on": "115/9/2"},
            "column",
            "「不可在期間內」要選一個日期欄位。",
        ),
        (
            {"kind": "before", "column": "預計採購日期", "other": "預計採購日期"},
            "other",
            "「預計採購日期」不能早於自己，請選另一個日期欄位。",
        ),
        (
            {"kind": "before", "column": "單價", "other": "到貨日期"},
            "column",
            "「單價」是金額（或免費）欄位，「須早於另一欄」只能用在日期或日期區間欄位。",
        ),
        ({"kind": "max_rows", "limit": "0"}, "limit", "列數上限須為正整數（至少 1）。"),
        ({"kind": "max_rows", "limit": ""}, "limit", "請填寫列數上限。"),
        (
            {"kind": "total", "column": "數量", "limit": "-3"},
            "limit",
            "合計上限須為正整數（至少 1）。",
        ),
        (
            {"kind": "total", "column": "預計採購日期", "limit": "30"},
            "column",
            "「預計採購日期」是日期欄位，「各列合計上限」只能用在整數或金額欄位。",
        ),
        ({"kind": "", "label": "寒假"}, "kind", "請選擇規則種類。"),
        # a filled field the kind does not use is named, not dropped unseen
        (
            {"kind": "max_rows", "limit": "5", "label": "寒假"},
            "label",
            "「列數上限」不用填「期間名稱」，請清空這一格或改選規則種類。",
        ),
        (
            {**WINDOW, "other": "到貨日期"},
            "other",
            "「須在期間內」不用填「須早於哪一欄開始」，請清空這一格或改選規則種類。",
        ),
        (
            {"kind": "before", "column": "預計採購日期", "other": "到貨日期", "limit": "3"},
            "limit",
            "「須早於另一欄」不用填「上限」，請清空這一格或改選規則種類。",
        ),
        (  # said in place of the date's own complaint: the clerk need not fix an unused field
            {"kind": "total", "column": "數量", "limit": "30", "starts_on": "115/2/30"},
            "starts_on",
            "「各列合計上限」不用填「期間開始」，請清空這一格或改選規則種類。",
        ),
        (
            {"kind": "max_rows", "limit": "5", "column": "數量"},
            "column",
            "「列數上限」不用填「欄位」，請清空這一格或改選規則種類。",
        ),
    ],
)
def test_bad_input_is_refused_field_by_field_with_nothing_saved(survey, login, bureau, row,
                                                                field, message):  # fmt: skip
    client = login(bureau)
    good = {"kind": "max_rows", "limit": "5"}
    r = client.post(url_of(survey), rules_post(survey, [good, row]))
    page = r.content.decode()
    assert r.status_code == 200 and "有些規則需要修正，請看標示的說明。" in page
    assert message in page
    error_id = f"id_rules-1-{field}_error"
    assert f'id="{error_id}"' in page and f'aria-describedby="{error_id}' in page
    assert page.count(f'id="{error_id}"') == 1, "one message a field"
    assert survey.table()[1] == [] and not SurveyChange.objects.filter(survey=survey).exists()


def test_a_change_that_filed_rows_break_is_refused_naming_schools_and_rows(
    survey, login, bureau, coordinator, other_coordinator, xindian_school, jiangcui_school
):
    services.survey_publish(survey=survey, by=bureau)
    for user, school, dates in ((coordinator, xindian_school, ["115/10/1", "115/12/1"]),
                                (other_coordinator, jiangcui_school, ["115/10/5"])):  # fmt: skip
        rows = [{**LAPTOPS, "預計採購日期": d} for d in dates]
        r = login(user).post(reverse("signups:file", args=[survey.pk, school.pk]),
                             row_post(survey, rows, "submit"))  # fmt: skip
        assert r.status_code == 302
    changes = SurveyChange.objects.filter(survey=survey).count()
    client = login(bureau)
    r = client.post(url_of(survey), rules_post(survey, [WINDOW, {"kind": "max_rows",
                                                                 "limit": "1"}]))  # fmt: skip
    page = r.content.decode()
    assert ("已填報的資料中有 1 校共 1 列不符合新的規則，規則未儲存：新店國小 第 2 列；"
            "最多 1 列，目前有 2 列。") in page  # fmt: skip
    assert survey.table()[1] == [] and SurveyChange.objects.filter(survey=survey).count() == changes

    # a rule every filed row passes is saved, filed or not
    r = client.post(url_of(survey), rules_post(survey, [{**WINDOW, "ends_on": "115/12/31"}]))
    assert r.status_code == 302 and len(survey.table()[1]) == 1


def test_the_filing_form_judges_by_the_new_rule(survey, login, bureau, coordinator,
                                                xindian_school):  # fmt: skip
    services.survey_publish(survey=survey, by=bureau)
    login(bureau).post(url_of(survey), rules_post(survey, [WINDOW]))
    client = login(coordinator)
    url = reverse("signups:file", args=[survey.pk, xindian_school.pk])
    assert "預計採購日期須在採購期間（115/9/1~10/31）內。" in client.get(url).content.decode()
    r = client.post(url, row_post(survey, [{**LAPTOPS, "預計採購日期": "115/12/1"}], "submit"))
    page = r.content.decode()
    assert "第 1 列，欄位 預計採購日期：" in page
    assert "預計採購日期須在採購期間（115/9/1~10/31）內。" in page
    assert not survey.responses.filter(offers__isnull=False).exists()


def test_a_winter_camp_surveys_rules_are_changed_on_its_edit_page(db, bureau, login):
    now = timezone.now()
    winter = services.survey_create(
        by=bureau, title="寒假調查", opens_at=now, closes_at=now + timedelta(days=3),
        school_year=108, categories="技能研習", window_label="寒假",
        activity_starts_on=date(2020, 1, 21), activity_ends_on=date(2020, 2, 10), blackouts=[],
    )  # fmt: skip
    page = login(bureau).get(url_of(winter)).content.decode()
    assert 'id="rules-from-form"' in page and 'id="rules-form"' not in page
    with pytest.raises(services.SignupError, match="請在那裡修改"):
        services.survey_rules_replace(survey=winter, by=bureau, rules_=[])


def columns_post(survey, changes=None, **audience):
    """The columns page's POST body: every column as stored, `changes` {label: {field: value}}
    on top, and the audience fields (`levels`, `districts`, `filed_by`)."""
    data = {"action": "save"}
    stored = list(survey.columns.order_by("position"))
    data |= {"columns-TOTAL_FORMS": str(len(stored)), "columns-INITIAL_FORMS": str(len(stored)),
             "columns-MIN_NUM_FORMS": "0", "columns-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for i, c in enumerate(stored):
        row = {"id": str(c.pk), "type": c.type, "help_text": c.help_text,
               "choices_text": "\n".join(c.options.get("choices", []))}  # fmt: skip
        if c.required:
            row["required"] = "on"
        row |= (changes or {}).get(c.label, {})
        data |= {f"columns-{i}-{k}": v for k, v in row.items()}
    for name, value in audience.items():
        data[f"audience-{name}"] = value
    return data


def stored_state(survey):
    survey.refresh_from_db()
    return (survey.district_ids, survey.levels,
            list(survey.columns.order_by("position").values_list("type", "options")))  # fmt: skip


def test_a_valid_audience_and_an_invalid_column_leave_both_unchanged(survey, login, bureau):
    before, changes = stored_state(survey), SurveyChange.objects.filter(survey=survey).count()
    bad = {"聯絡人": {"type": "choice", "choices_text": ""}}
    r = login(bureau).post(url_of(survey), columns_post(survey, bad, levels=["elementary"]))
    page = r.content.decode()
    assert r.status_code == 200 and "「聯絡人」是選項欄位，請至少填一個選項。" in page
    assert stored_state(survey) == before
    assert SurveyChange.objects.filter(survey=survey).count() == changes


def test_every_error_on_the_columns_page_shows_at_once(survey, login, bureau):
    bad = {"聯絡人": {"type": "choice", "choices_text": ""}}
    page = login(bureau).post(url_of(survey), columns_post(survey, bad, districts=["99999"]))
    page = page.content.decode()
    assert "「聯絡人」是選項欄位，請至少填一個選項。" in page
    assert (
        "99999" in page
        and 'class="error"' in page.split('id="audience"')[1].split("</fieldset>")[0]
    )


def test_a_refused_column_change_saves_no_audience_change_either(survey, login, bureau,
                                                                 coordinator, xindian_school):  # fmt: skip
    services.survey_publish(survey=survey, by=bureau)
    login(coordinator).post(reverse("signups:file", args=[survey.pk, xindian_school.pk]),
                            row_post(survey, [LAPTOPS], "save"))  # fmt: skip
    before, changes = stored_state(survey), SurveyChange.objects.filter(survey=survey).count()
    retyped = {"聯絡人": {"type": "email"}}  # a filed column's type may not change
    r = login(bureau).post(url_of(survey), columns_post(survey, retyped, levels=["elementary"]))
    page = r.content.decode()
    assert "不能再把欄位「聯絡人」的類型" in page
    assert stored_state(survey) == before and survey.levels == []
    assert SurveyChange.objects.filter(survey=survey).count() == changes


def test_a_good_audience_and_column_change_are_saved_together(survey, login, bureau):
    changed = {"聯絡人": {"help_text": "承辦人姓名"}}
    r = login(bureau).post(url_of(survey), columns_post(survey, changed, levels=["elementary"]))
    assert r.status_code == 302
    survey.refresh_from_db()
    assert survey.levels == ["elementary"]
    assert survey.columns.get(label="聯絡人").help_text == "承辦人姓名"
