"""The bureau's own .xlsx templates read into proposed surveys (signups/bureau_template.py and
`manage.py survey_from_template`): six tables like the ones the bureau e-mails, the seed's
winter-camp table, and templates that must be refused naming the cell."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from signups.bureau_template import TemplateRefused, read_template
from signups.columns import check_table

SEED_TITLE = "新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"
SEED_HEADERS = "項次 類型 承辦學校 課程名稱 活動日期 活動地點 費用 報名日期 參加年級 人數".split()
SEED_EXAMPLE = ["1 (例)", "技能研習", "新店國小", "FUN Coding (KODU+RPG)", "2/3~4", "新店國小",
                "免費", "12/25~ 1/3", "4~6年級 女生", 20]  # fmt: skip
SEED_NOTES = ["*表格不足請自行增列", "寒假時間為109年1月21日至2月10日",
              "(109年1月23日至1月29日除夕及春假)"]  # fmt: skip


def sheet(title, headers, example=None, notes=(), rows=(), tweak=None):
    """A template as the bureau types it: title line, blank, header row, (例) row, notes."""
    wb = Workbook()
    ws = wb.active
    ws["A1"] = title
    for i, h in enumerate(headers, start=1):
        ws.cell(3, i, h)
    r = 4
    for values in ([example] if example else []) + list(rows):
        for i, v in enumerate(values, start=1):
            ws.cell(r, i, v)
        r += 1
    r += 1
    for note in notes:
        ws.cell(r, 1, note)
        r += 2
    if tweak:
        tweak(ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def types(proposal):
    return [(c.label, c.type) for c in proposal.columns]


def test_the_seeds_table_typed_into_a_sheet_becomes_todays_winter_camp_survey():
    p = read_template(sheet(SEED_TITLE, SEED_HEADERS, SEED_EXAMPLE, SEED_NOTES))
    assert p.title == SEED_TITLE and p.has_row_number and p.school_year == 108
    assert types(p) == [("類型", "choice"), ("承辦學校", "school"), ("課程名稱", "text"),
                        ("活動日期", "date_range"), ("活動地點", "text"), ("費用", "money"),
                        ("報名日期", "date_range"), ("參加年級", "grade_range"),
                        ("人數", "integer")]  # fmt: skip
    assert [(r["kind"], r.get("label"), r.get("text")) for r in p.as_data()["rules"]] == [
        ("before", None, None),
        ("within", "寒假", "109/1/21~2/10"),
        ("outside", "除夕及春假", "109/1/23~29"),
    ]
    assert p.notes == SEED_NOTES
    # today's behaviour: the seed's example row passes, a New Year date is refused the same way
    row = {c.key: p.example[c.key] for c in p.columns if c.key in p.example}
    ok = check_table(p.columns, p.rules, [row], school_year=108, school_name="新店國小")
    assert ok.ok, ok.problems
    activity = next(c.key for c in p.columns if c.label == "活動日期")
    bad = check_table(p.columns, p.rules, [{**row, activity: "1/25"}], school_year=108,
                      school_name="新店國小")  # fmt: skip
    assert [str(x) for x in bad.problems] == [
        "第 1 列，欄位 活動日期：活動日期不可在除夕及春假期間（109/1/23~29），請改期。"
    ]


SIX = {
    "equipment": (
        "115學年度各校資訊設備需求調查表",
        ["項次", "學校", "設備名稱", "規格", "數量", "單價", "預計採購日期", "聯絡人", "聯絡電話"],
        [
            "1(例)",
            "新店國小",
            "筆記型電腦",
            "i5",
            "30台",
            "25000",
            "115/10/1",
            "王小明",
            "02-2960-3456#123",
        ],
        ["*表格不足請自行增列", "請於115年10月31日前回覆"],
        [
            ("數量", "integer"),
            ("單價", "money"),
            ("預計採購日期", "date"),
            ("聯絡電話", "phone"),
            ("學校", "school"),
        ],
    ),
    "venues": (
        "115年度資訊研習場地調查表",
        ["編號", "學校", "場地名稱", "可容納人數", "可借用期間", "聯絡人", "E-mail"],
        ["（例）", "新店國小", "電腦教室一", "35", "115/8/1~8/31", "李老師", "it@xdps.ntpc.edu.tw"],
        [],
        [("可容納人數", "integer"), ("可借用期間", "date_range"), ("E-mail", "email")],
    ),
    "contacts": (
        "115學年度資訊組長聯絡名冊",
        ["學校", "姓名", "職稱", "電話", "手機", "電子郵件"],
        ["新店國小(例)", "王小明", "資訊組長", "02-2911-1234#23", "0912-345-678", "a@b.edu.tw"],
        [],
        [("學校", "school"), ("電話", "phone"), ("手機", "phone"), ("電子郵件", "email")],
    ),
    "timetables": (
        "115學年度各校資訊課程時間表",
        ["學校", "參加年級", "每週節數", "上課時間", "授課教師", "備註(選填)"],
        ["新店國小 (例)", "3~6年級", "1", "週二第3節", "陳老師", ""],
        [],
        [
            ("參加年級", "grade_range"),
            ("每週節數", "integer"),
            ("上課時間", "text"),
            ("備註", "text"),
        ],
    ),
    "summer": (
        "新北市115年度暑假青少年育樂營隊開辦調查表",
        [
            "項次",
            "類型",
            "承辦學校",
            "營隊名稱",
            "活動日期",
            "費用",
            "報名日期",
            "參加年級",
            "人數",
        ],
        ["1 (例)", "營隊", "新店國小", "機器人營", "7/6~10", "500", "6/1~6/20", "7~9年級 男生", 24],
        ["暑假時間為115年7月1日至8月29日", "(115年7月20日至7月24日颱風備用日)"],
        [("類型", "choice"), ("活動日期", "date_range"), ("參加年級", "grade_range")],
    ),
    "drill": (
        "115年度資安演練參加人員名單",
        ["學校", "參加人員", "職稱", "演練日期", "聯絡電話", "是否需要停車"],
        ["(例)新店國小", "王小明", "資訊組長", "115/11/5", "(02)2960-3456", "是"],
        [],
        [("演練日期", "date"), ("聯絡電話", "phone"), ("是否需要停車", "choice")],
    ),
}


@pytest.mark.parametrize("name", list(SIX))
def test_six_bureau_tables_become_proposed_surveys_two_schools_can_file(name):
    title, headers, example, notes, expected = SIX[name]
    p = read_template(sheet(title, headers, example, notes))
    assert p.title == title
    found = dict(types(p))
    for label, kind in expected:
        assert found[label] == kind, (label, found)
    # the example row, as two schools would file it, passes its own columns' types and rules
    row = {c.key: p.example.get(c.key, "") for c in p.columns}
    for school in ("新店國小", "北新國小"):
        filed = {**row, **{c.key: "" for c in p.columns if c.type == "school"}}
        result = check_table(p.columns, p.rules, [filed], school_year=p.school_year or 115,
                             school_name=school)  # fmt: skip
        assert result.ok, [str(x) for x in result.problems]
        assert all(result.rows[0][c.key] == school for c in p.columns if c.type == "school")


def test_the_summer_notes_become_a_window_and_a_blackout():
    title, headers, example, notes, _ = SIX["summer"]
    rules = read_template(sheet(title, headers, example, notes)).as_data()["rules"]
    assert [(r["kind"], r.get("label"), r.get("start"), r.get("end")) for r in rules] == [
        ("before", None, None, None),
        ("within", "暑假", "2026-07-01", "2026-08-29"),
        ("outside", "颱風備用日", "2026-07-20", "2026-07-24"),
    ]


def _merge(ws):
    ws.merge_cells("B3:C3")


def _second_table(ws):
    for i, h in enumerate(["學校", "姓名", "電話"], start=1):
        ws.cell(12, i, h)


def _formula(ws):
    ws["E5"] = "=SUM(E4:E4)"


def _wide(ws):
    ws.cell(3, 10_000, "多")


@pytest.mark.parametrize(
    ("tweak", "headers", "message"),
    [
        (None, ["學校說明"], "找不到欄位名稱列"),
        (_merge, SEED_HEADERS, "欄位名稱列的 B3:C3 是合併儲存格"),
        (_second_table, SEED_HEADERS, "第二個表格（從 A12 開始）"),
        (_formula, SEED_HEADERS, "儲存格 E5 是公式（=SUM(E4:E4)）"),
        (_wide, SEED_HEADERS, "10,000 欄（到 NTP1）"),
    ],
)
def test_bad_templates_are_refused_naming_the_cell(tweak, headers, message):
    data = sheet(SEED_TITLE, headers, SEED_EXAMPLE if len(headers) > 1 else None, [], tweak=tweak)
    with pytest.raises(TemplateRefused) as info:
        read_template(data)
    assert any(message in m for m in info.value.messages), info.value.messages


def test_the_command_prints_the_proposal_as_json(tmp_path, capsys):
    path = tmp_path / "寒假.xlsx"
    path.write_bytes(sheet(SEED_TITLE, SEED_HEADERS, SEED_EXAMPLE, SEED_NOTES))
    call_command("survey_from_template", str(path), "--title", "T", "--closes", "115/12/31 17:00",
                 "--dry-run", "--json")  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["title"] == "T" and data["closes"] == "115/12/31 17:00"
    assert data["columns"][0] == {"label": "類型", "type": "choice", "required": True,
                                  "options": {"choices": ["技能研習"]}}  # fmt: skip
    assert {"kind": "outside", "column": "活動日期"}.items() <= data["rules"][2].items()
    assert data["notes"] == SEED_NOTES
    assert data["warnings"][0]["row"] == 3


def test_the_command_names_the_cell_of_a_bad_template(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(sheet(SEED_TITLE, SEED_HEADERS, SEED_EXAMPLE, [], tweak=_formula))
    with pytest.raises(CommandError, match="儲存格 E5 是公式"):
        call_command("survey_from_template", str(path), "--dry-run", "--json")


def test_without_dry_run_the_seeds_table_becomes_todays_winter_camp_survey(db, tmp_path, capsys):
    from signups.models import Survey

    path = tmp_path / "寒假.xlsx"
    path.write_bytes(sheet(SEED_TITLE, SEED_HEADERS, SEED_EXAMPLE, SEED_NOTES))
    call_command("survey_from_template", str(path), "--opens", "108/9/10 12:00",
                 "--closes", "108/9/23 17:00", "--json")  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    survey = Survey.objects.get(pk=data["survey"])
    rules = survey.rules()
    assert survey.title == SEED_TITLE and rules.school_year == 108
    assert (rules.window.label, rules.window.text) == ("寒假", "109/1/21~2/10")
    assert [(b.label, b.text) for b in rules.blackouts] == [("除夕及春假", "109/1/23~29")]
    assert rules.registration_before_activity and rules.categories == ("技能研習",)


def test_another_table_becomes_a_draft_survey_with_its_own_columns(db, tmp_path, capsys):
    from signups.models import Survey

    title, headers, example, notes, _ = SIX["equipment"]
    path = tmp_path / "設備.xlsx"
    path.write_bytes(sheet(title, headers, example, notes))
    call_command("survey_from_template", str(path), "--closes", "115/12/31 17:00", "--json")
    data = json.loads(capsys.readouterr().out)
    survey = Survey.objects.get(pk=data["survey"])
    assert survey.is_draft and not survey.is_open()
    table, _ = survey.table()
    assert [(c.label, c.type) for c in table] == [(c["label"], c["type"]) for c in data["columns"]]


def test_the_template_page_is_for_bureau_staff_only(login, coordinator, convener):
    from django.urls import reverse

    for user in (coordinator, convener):
        assert login(user).get(reverse("signups:from_template")).status_code == 403


def test_a_forged_kept_file_is_a_message_not_an_error(login, bureau):
    from django.urls import reverse

    r = login(bureau).post(reverse("signups:from_template"), {"kept": "!!not base64!!"})
    assert r.status_code == 200 and "請重新選擇範本檔案" in r.content.decode()
    r = login(bureau).post(reverse("signups:from_template"), {"kept": "bm90IGFuIHhsc3g="})
    assert "這不是 Excel 檔" in r.content.decode()
