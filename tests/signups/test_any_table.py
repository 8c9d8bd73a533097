"""Any table the bureau e-mails becomes a survey: built from its template as a draft, reviewed
column by column, published, filed by two schools through its own columns, exported in its own
layout and imported back."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from signups import bureau_template, services
from signups.models import Offer, Response, Status, Submission, SurveyChange
from tests.signups.test_bureau_template import SIX, sheet


@pytest.fixture
def equipment(db, bureau):
    title, headers, example, notes, _ = SIX["equipment"]
    proposal = bureau_template.read_template(sheet(title, headers, example, notes))
    now = timezone.now()
    return services.survey_from_proposal(proposal=proposal, title="", by=bureau,
                                         opens_at=now - timedelta(hours=1),
                                         closes_at=now + timedelta(days=7))  # fmt: skip


def keys(survey):
    return {c.label: c.key for c in survey.table()[0]}


def row_post(survey, rows, action="save"):
    k = keys(survey)
    data = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0",
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000", "action": action}  # fmt: skip
    for i, row in enumerate(rows):
        for label, text in row.items():
            data[f"rows-{i}-{k[label]}"] = text
        data[f"rows-{i}-ORDER"] = str(i + 1)
    return data


LAPTOPS = {"設備名稱": "筆記型電腦", "規格": "i5", "數量": "30台", "單價": "25000",
           "預計採購日期": "115/10/1", "聯絡人": "王小明", "聯絡電話": "02-2960-3456#123"}  # fmt: skip


def test_a_draft_is_hidden_from_schools_until_published(equipment, login, coordinator, bureau,
                                                        xindian_school):  # fmt: skip
    url = reverse("signups:file", args=[equipment.pk, xindian_school.pk])
    assert login(coordinator).get(url).status_code == 404
    services.survey_publish(survey=equipment, by=bureau)
    assert login(coordinator).get(url).status_code == 200


def test_two_schools_file_the_equipment_table_and_the_bureau_exports_it(
    equipment, login, bureau, coordinator, other_coordinator, xindian_school, jiangcui_school
):
    services.survey_publish(survey=equipment, by=bureau)
    for user, school, count in ((coordinator, xindian_school, "30台"),
                                (other_coordinator, jiangcui_school, "12")):  # fmt: skip
        client = login(user)
        url = reverse("signups:file", args=[equipment.pk, school.pk])
        r = client.post(url, row_post(equipment, [{**LAPTOPS, "數量": count}], "submit"))
        assert r.status_code == 302, r.content.decode()[:2000]
        assert Response.objects.get(survey=equipment, school=school).status == Status.SUBMITTED
    k = keys(equipment)
    values = Offer.objects.get(response__school=xindian_school).values
    assert (values[k["數量"]], values[k["單價"]], values[k["預計採購日期"]]) == (
        30, 25000, "2026-10-01")  # fmt: skip
    assert values[k["學校"]] == "新店國小"  # the school column defaults to the filing school
    assert Submission.objects.get(response__school=xindian_school).snapshot[0][k["數量"]] == "30"

    export = login(bureau).get(reverse("signups:export", args=[equipment.pk]))
    ws = load_workbook(io.BytesIO(export.content)).active
    assert ws["A1"].value == "115學年度各校資訊設備需求調查表"
    assert [c.value for c in ws[2]] == ["項次", "學校", "設備名稱", "規格", "數量", "單價",
                                        "預計採購日期", "聯絡人", "聯絡電話"]  # fmt: skip
    body = [
        [c.value for c in row] for row in ws.iter_rows(min_row=3) if isinstance(row[0].value, int)
    ]
    assert sorted((r[1], r[4]) for r in body) == [("新店國小", 30), ("江翠國中", 12)]
    assert any(ws.cell(r, 1).value == "*表格不足請自行增列" for r in range(3, ws.max_row + 1))


def test_a_wrong_value_is_refused_naming_the_column(equipment, login, bureau, coordinator,
                                                    xindian_school):  # fmt: skip
    services.survey_publish(survey=equipment, by=bureau)
    url = reverse("signups:file", args=[equipment.pk, xindian_school.pk])
    r = login(coordinator).post(url, row_post(equipment, [{**LAPTOPS, "聯絡電話": "打給我"}],
                                              "submit"))  # fmt: skip
    page = r.content.decode()
    assert "第 1 列，欄位 聯絡電話：" in page and "不是電話號碼" in page
    assert not Offer.objects.exists()


def test_the_blank_template_round_trips_through_the_import(equipment, bureau, coordinator,
                                                           xindian_school):  # fmt: skip
    from signups import resources

    services.survey_publish(survey=equipment, by=bureau)
    blank = load_workbook(io.BytesIO(resources.template_xlsx(equipment, xindian_school))).active
    assert blank["B3"].value == "新店國小"
    wb = Workbook()
    ws = wb.active
    for r, row in enumerate([[c.value for c in blank[1]], [c.value for c in blank[2]]], 1):
        for c, v in enumerate(row, 1):
            ws.cell(r, c, v)
    labels = [c.value for c in blank[2]][1:]
    ws.append(["1"] + [{"學校": "新店國小", **LAPTOPS}.get(label, "") for label in labels])
    ws.append(["2"] + [{"學校": "新店國小", **LAPTOPS, "數量": "很多"}.get(label, "")
                       for label in labels])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(resources.ImportRefused) as info:
        resources.read_rows(io.BytesIO(out.getvalue()), survey_rules=equipment.rules(),
                            school=xindian_school, survey=equipment)  # fmt: skip
    assert info.value.messages == ["第 4 列，欄位 數量：數量「很多」須為整數，例如 20。"]


def test_the_bureau_adjusts_a_column_but_not_its_type_once_schools_have_filed(
    equipment, bureau, coordinator, xindian_school
):
    # the proposal read 規格 as a choice from its one example; the bureau makes it free text
    column = equipment.columns.get(label="規格")
    change = services.survey_columns_update(survey=equipment, by=bureau, columns_=[
        (column, {"type": "text", "required": False, "help_text": "例如 i5", "options": {}})])  # fmt: skip
    assert [f["label"] for f in change.fields] == [
        "欄位「規格」類型", "欄位「規格」必填", "欄位「規格」填寫說明", "欄位「規格」類型選項"]  # fmt: skip
    assert (change.fields[0]["old"], change.fields[0]["new"]) == ("選項", "文字")
    services.survey_publish(survey=equipment, by=bureau)
    response = services.response_get(survey=equipment, school=xindian_school)
    k = keys(equipment)
    services.offers_save(response=response, by=coordinator,
                         rows=[{k["設備名稱"]: "筆電", k["數量"]: 3}])  # fmt: skip
    quantity = equipment.columns.get(label="數量")
    with pytest.raises(services.SignupError, match="已有 1 校填報，不能再把欄位「數量」的類型"):
        services.survey_columns_update(survey=equipment, by=bureau, columns_=[
            (quantity, {"type": "text", "required": True, "help_text": "", "options": {}})])  # fmt: skip
    quantity.refresh_from_db()
    assert quantity.type == "integer"
    assert SurveyChange.objects.filter(survey=equipment).count() == 2  # the edit and publishing


def test_the_review_page_changes_a_column_and_publishes(equipment, login, bureau):
    url = reverse("signups:columns", args=[equipment.pk])
    client = login(bureau)
    page = client.get(url).content.decode()
    assert "檢查欄位" in page and 'data-column="聯絡電話"' in page
    data = {"columns-TOTAL_FORMS": "8", "columns-INITIAL_FORMS": "8", "action": "save"}
    for i, column in enumerate(equipment.columns.order_by("position")):
        data |= {f"columns-{i}-id": str(column.pk), f"columns-{i}-type": column.type,
                 f"columns-{i}-help_text": column.help_text,
                 f"columns-{i}-choices_text": "\n".join(column.options.get("choices", []))}  # fmt: skip
        if column.required:
            data[f"columns-{i}-required"] = "on"
    data["columns-2-choices_text"] = ""  # 規格 stays a choice without options: refused
    r = client.post(url, data)
    assert "「規格」是選項欄位，請至少填一個選項。" in r.content.decode()
    data["columns-2-type"] = "text"
    assert client.post(url, data).status_code == 302
    assert equipment.columns.get(label="規格").type == "text"
    r = client.post(url, {**data, "action": "publish"})
    assert r.status_code == 302
    equipment.refresh_from_db()
    assert not equipment.is_draft


def test_only_the_schools_asked_file_and_appear_on_the_grid(
    equipment, login, bureau, coordinator, other_coordinator, xindian_school, jiangcui_school,
    beixin_school,
):  # fmt: skip
    from signups import selectors

    xindian_school.level, jiangcui_school.level = "elementary", "junior_high"
    beixin_school.level = "elementary"
    for school in (xindian_school, jiangcui_school, beixin_school):
        school.save()
    change = services.survey_audience_set(survey=equipment, by=bureau, levels=["elementary"],
                                          district_ids=[xindian_school.district_id])  # fmt: skip
    assert change.fields[0]["new"] == "文山分區；國小" or "國小" in change.fields[0]["new"]
    services.survey_publish(survey=equipment, by=bureau)
    equipment.refresh_from_db()
    listed = [r.school.name for g in selectors.survey_grid(equipment) for r in g.rows]
    assert sorted(listed) == ["北新國小", "新店國小"]
    assert [s.name for s in services.unanswered_schools(equipment)] == ["北新國小", "新店國小"]
    url = reverse("signups:file", args=[equipment.pk, jiangcui_school.pk])
    assert login(other_coordinator).get(url).status_code == 404
    url = reverse("signups:file", args=[equipment.pk, xindian_school.pk])
    assert login(coordinator).get(url).status_code == 200
