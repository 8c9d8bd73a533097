"""A survey filed by each district's convener school (分區召集學校填報), as the seed's conveners
collect the timetables: one answer per district, the convener school's response standing for
it; only the convener opens and files it; the grid lists districts; reminders and 退回 reach the
conveners; the export names the district; everything else works as for a school's answer."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from portal.models import District
from signups import bureau_template, columns, resources, selectors, services, tasks, todo
from signups.models import FiledBy, ImportRun, Reminder, Response, Status
from signups.rules import RuleError
from tests import factories
from tests.signups.test_any_table import keys, row_post
from tests.signups.test_bureau_template import SIX, sheet

LESSON = {"參加年級": "3~6年級", "每週節數": "1", "上課時間": "週二第3節", "授課教師": "陳老師"}


@pytest.fixture
def conveners(wenshan, banqiao, beixin_school, xindian_school, jiangcui_school):
    """北新國小 convenes 文山分區, 江翠國中 板橋分區; a third district has no convener school."""
    wenshan.convener_school, banqiao.convener_school = beixin_school, jiangcui_school
    wenshan.save()
    banqiao.save()
    factories.SchoolFactory(name="淡水國小", code="014651",
                            district=factories.DistrictFactory(name="淡水分區", position=6))  # fmt: skip
    return wenshan, banqiao


@pytest.fixture
def timetables(db, bureau, conveners):
    title, headers, example, notes, _ = SIX["timetables"]
    proposal = bureau_template.read_template(sheet(title, headers, example, notes))
    now = timezone.now()
    survey = services.survey_from_proposal(proposal=proposal, title="", by=bureau,
                                           opens_at=now - timedelta(hours=1),
                                           closes_at=now + timedelta(days=7))  # fmt: skip
    services.survey_audience_set(survey=survey, by=bureau, district_ids=[], levels=[],
                                 filed_by=FiledBy.DISTRICT)  # fmt: skip
    services.survey_publish(survey=survey, by=bureau)
    survey.refresh_from_db()
    return survey


def file_url(survey, school):
    return reverse("signups:file", args=[survey.pk, school.pk])


def todos_of(user):
    request = RequestFactory().get("/")
    request.user = user
    return todo.todos(request)


def test_only_the_convener_opens_and_files_the_districts_answer(
    timetables, login, convener, coordinator, beixin_school, xindian_school
):
    # the district's convener (分區代表) goes from the survey straight to the district's table
    client = login(convener)
    r = client.get(reverse("signups:survey", args=[timetables.pk]))
    assert r.status_code == 302 and r["Location"] == file_url(timetables, beixin_school)
    page = client.get(file_url(timetables, beixin_school)).content.decode()
    assert "填報分區：<strong>文山分區</strong>" in page and "本分區不辦理（無意願）" in page
    r = client.post(file_url(timetables, beixin_school), row_post(timetables, [LESSON], "submit"))
    assert r.status_code == 302
    response = Response.objects.get(survey=timetables, school=beixin_school)
    assert response.status == Status.SUBMITTED and response.submissions.get().number == 1
    # blank: the convener school, stored by its code as well as its name
    assert response.offers.get().values[keys(timetables)["學校"]] == {
        "code": "014631",
        "name": "北新國小",
    }

    # a plain coordinator of another school of the district: not asked, cannot open or post it
    client = login(coordinator)
    assert client.get(file_url(timetables, xindian_school)).status_code == 404
    assert client.get(file_url(timetables, beixin_school)).status_code == 403
    r = client.post(file_url(timetables, beixin_school), row_post(timetables, [LESSON], "submit"))
    assert r.status_code == 403
    # it only reads what its convener filed for it (see test_a_district_school_reads_…)
    page = client.get(reverse("signups:survey", args=[timetables.pk])).content.decode()
    assert "由分區召集學校代填" in page and 'name="action"' not in page
    listing = client.get(reverse("signups:list")).content.decode()
    assert "本調查由分區召集學校代填" in listing
    assert reverse("signups:survey", args=[timetables.pk]) in listing
    assert file_url(timetables, beixin_school) not in listing
    survey_url = reverse("signups:survey", args=[timetables.pk])
    assert survey_url not in client.get("/").content.decode()  # nor on the home page
    assert survey_url in login(convener).get("/").content.decode()


def test_the_convener_schools_coordinator_files_it_too_and_drafts_decline_and_versions_work(
    timetables, login, beixin_school
):
    client = login(factories.coordinator_of(beixin_school))
    url = file_url(timetables, beixin_school)
    assert client.post(url, row_post(timetables, [LESSON], "save")).status_code == 302
    response = Response.objects.get(survey=timetables, school=beixin_school)
    assert response.status == Status.DRAFT
    assert client.post(url, {"action": "decline"}).status_code == 302
    response.refresh_from_db()
    assert response.status == Status.DECLINED and response.offers.count() == 1  # rows kept
    assert client.post(url, row_post(timetables, [LESSON], "submit")).status_code == 302
    assert [s.number for s in response.submissions.all()] == [1, 2]


def test_the_grid_lists_the_districts_and_the_export_names_them(
    timetables, login, bureau, convener, other_coordinator, beixin_school, jiangcui_school
):
    login(convener).post(file_url(timetables, beixin_school),
                         row_post(timetables, [LESSON], "submit"))  # fmt: skip
    login(other_coordinator).post(file_url(timetables, jiangcui_school),
                                  row_post(timetables, [{**LESSON, "授課教師": "林老師"}],
                                           "submit"))  # fmt: skip
    groups = selectors.survey_grid(timetables)
    assert [(g.district.name, g.rows[0].school and g.rows[0].school.name, g.rows[0].status)
            for g in groups] == [("板橋分區", "江翠國中", "submitted"),
                                 ("文山分區", "北新國小", "submitted"),
                                 ("淡水分區", None, "none")]  # fmt: skip
    page = login(bureau).get(reverse("signups:grid", args=[timetables.pk])).content.decode()
    assert '已回覆 <strong id="answered-total">2</strong> / 3 個分區' in page
    assert "未設定召集學校" in page and "新店國小" not in page

    ws = load_workbook(io.BytesIO(
        login(bureau).get(reverse("signups:export", args=[timetables.pk])).content)).active  # fmt: skip
    assert [c.value for c in ws[2]][:3] == ["項次", "分區", "學校"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3)
            if isinstance(row[0].value, int)]  # fmt: skip
    assert [(r[1], r[2], r[6]) for r in body] == [("板橋分區", "江翠國中", "林老師"),
                                                  ("文山分區", "北新國小", "陳老師")]  # fmt: skip
    rows_page = login(bureau).get(reverse("signups:rows", args=[timetables.pk])).content.decode()
    assert "文山分區" in rows_page and "林老師" in rows_page


def test_reminders_and_a_return_reach_the_conveners(
    timetables, login, bureau, convener, beixin_school, django_capture_on_commit_callbacks
):
    # 北新國小 has no coordinator: the district's convener is who the reminder reaches
    assert services.unanswered_without_address(timetables) != []  # 板橋 has no one at all
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.reminders_send(survey=timetables, kind="manual-x")
    assert outcome.sent == 1 and [s.name for s in outcome.no_one] == ["江翠國中"]
    assert Reminder.objects.get().school == beixin_school
    assert [m.to for m in mail.outbox] == [[convener.email]]

    login(convener).post(file_url(timetables, beixin_school),
                         row_post(timetables, [LESSON], "submit"))  # fmt: skip
    response = Response.objects.get(survey=timetables, school=beixin_school)
    with django_capture_on_commit_callbacks(execute=True):
        services.response_return(response=response, by=bureau, comment="請補上授課教師的全名")
    assert mail.outbox[-1].to == [convener.email] and "請補上授課教師的全名" in mail.outbox[-1].body
    assert tasks.send_reminder(Reminder.objects.get().pk) is False  # already sent once


def test_only_the_convener_sees_it_as_a_to_do(
    timetables, convener, coordinator, bureau, beixin_school
):
    assert [t.text for t in todos_of(coordinator) if timetables.title in t.text] == []
    mine = [t for t in todos_of(convener) if timetables.title in t.text]
    assert [(t.text, t.url) for t in mine] == [
        (f"填報本分區的「{timetables.title}」", file_url(timetables, beixin_school))
    ]
    assert any("尚有 3 個分區未回覆" in t.text for t in todos_of(bureau))
    # the convener school's own coordinator has it in their list (and the convener once, not twice)
    own = factories.coordinator_of(beixin_school)
    assert [t.url for t in todos_of(own) if timetables.title in t.text] == [
        file_url(timetables, beixin_school)
    ]


def test_the_convener_imports_the_districts_xlsx(
    timetables, login, convener, beixin_school, django_capture_on_commit_callbacks
):
    blank = load_workbook(io.BytesIO(resources.template_xlsx(timetables, beixin_school))).active
    labels = [c.value for c in blank[2]][1:]
    blank.append(["1"] + [{"學校": "北新國小", **LESSON}.get(label, "") for label in labels])
    out = io.BytesIO()
    blank.parent.save(out)
    upload = SimpleUploadedFile("課表.xlsx", out.getvalue(), content_type=resources.XLSX_MIME)
    url = reverse("signups:import", args=[timetables.pk, beixin_school.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert login(convener).post(url, {"file": upload}).status_code == 302
    run = ImportRun.objects.get()
    assert run.outcome == "saved" and run.rows_saved == 1, run.problems
    assert Response.objects.get(school=beixin_school).status == Status.DRAFT


@pytest.mark.template_context  # reads the page's formset from response.context
def test_who_files_cannot_change_once_anyone_has_answered(timetables, login, bureau, convener,
                                                          beixin_school):  # fmt: skip
    login(convener).post(file_url(timetables, beixin_school),
                         row_post(timetables, [LESSON], "save"))  # fmt: skip
    with pytest.raises(services.SignupError, match="不能再把填報單位"):
        services.survey_audience_set(survey=timetables, by=bureau, district_ids=[], levels=[],
                                     filed_by=FiledBy.SCHOOL)  # fmt: skip
    timetables.refresh_from_db()
    assert timetables.by_district
    # the review page says so and changes nothing
    url = reverse("signups:columns", args=[timetables.pk])
    client = login(bureau)
    form = client.get(url).context["formset"]
    data = {"columns-TOTAL_FORMS": str(len(form.forms)), "columns-INITIAL_FORMS": str(len(form.forms)),
            "columns-MIN_NUM_FORMS": "0", "columns-MAX_NUM_FORMS": "1000", "action": "save",
            "audience-filed_by": "school"}  # fmt: skip
    for i, f in enumerate(form.forms):
        data[f"columns-{i}-id"] = str(f.instance.pk)
        data[f"columns-{i}-type"] = f.instance.type
        data[f"columns-{i}-required"] = "on" if f.instance.required else ""
    page = client.post(url, data, follow=True).content.decode()
    assert "不能再把填報單位從「分區召集學校填報（每分區一份）」改為「每校填報」" in page
    timetables.refresh_from_db()
    assert timetables.filed_by == FiledBy.DISTRICT
    assert District.objects.get(name="文山分區").convener_school == beixin_school


def test_the_survey_forms_set_who_files(db, login, bureau):
    client = login(bureau)
    page = client.get(reverse("signups:create")).content.decode()
    assert "分區召集學校填報（每分區一份）" in page
    data = {"title": "各分區課表彙整", "opens_at": "115/9/1 08:00", "closes_at": "115/9/30 17:00",
            "school_year": "115", "categories": "技能研習", "window_label": "寒假",
            "activity_starts_on": "116/1/20", "activity_ends_on": "116/2/15",
            "reminder_days_before": "3", "filed_by": "district"}  # fmt: skip
    assert client.post(reverse("signups:create"), data).status_code == 302
    from signups.models import Survey

    survey = Survey.objects.get(title="各分區課表彙整")
    assert survey.by_district
    edit = reverse("signups:edit", args=[survey.pk])
    blackouts = {"blackouts-TOTAL_FORMS": "0", "blackouts-INITIAL_FORMS": "0",
                 "blackouts-MIN_NUM_FORMS": "0", "blackouts-MAX_NUM_FORMS": "1000"}  # fmt: skip
    assert client.post(edit, {**data, **blackouts, "filed_by": "school"}).status_code == 302
    survey.refresh_from_db()
    assert survey.filed_by == FiledBy.SCHOOL
    assert survey.changes.first().fields == [
        {"field": "filed_by", "label": "填報單位", "old": "分區召集學校填報（每分區一份）",
         "new": "每校填報"}
    ]  # fmt: skip


# --- a convener fills in rows for its district's schools -----------------------------------

WENSHAN = columns.DistrictSchools(
    district="文山分區", convener=("014631", "北新國小"),
    schools=(("014631", "北新國小"), ("014632", "新店國小"), ("014633", "安坑國小")),
)  # fmt: skip
SCHOOL = columns.Column("school", "承辦學校", "school", required=False)


def parsed(text, schools=WENSHAN):
    return columns.parse(SCHOOL, text, school_year=115, schools=schools)


def test_a_district_school_is_read_by_its_name_or_code_and_blank_is_the_convener():
    assert parsed("新店國小") == {"code": "014632", "name": "新店國小"}
    assert parsed(" 新店　國小 ") == {"code": "014632", "name": "新店國小"}  # full-width space
    assert parsed("０１４６３３") == {"code": "014633", "name": "安坑國小"}  # full-width digits
    assert parsed("") == parsed("　") == {"code": "014631", "name": "北新國小"}
    assert columns.show(SCHOOL, parsed("014632"), school_year=115) == "新店國小"
    assert columns.show(SCHOOL, "北新國小", school_year=115) == "北新國小"  # stored before


@pytest.mark.parametrize("text", ["江翠國中", "=HYPERLINK(\"http://evil\",\"新店國小\")",
                                  "新店國小" * 200, "新店國小\n安坑國小", "014501"])  # fmt: skip
def test_anything_but_a_school_of_the_district_is_refused_naming_the_district(text):
    with pytest.raises(RuleError) as caught:
        parsed(text)
    message = str(caught.value)
    assert "不是文山分區的學校" in message and "留空代表召集學校（北新國小）" in message
    assert len(message) < 120 and "\n" not in message  # a long value is not echoed whole


def test_two_schools_of_one_name_ask_for_the_code():
    twins = columns.DistrictSchools("文山分區", ("014631", "北新國小"),
                                    (("014631", "北新國小"), ("1", "中正國小"), ("2", "中正國小")))  # fmt: skip
    with pytest.raises(RuleError, match="有 2 所學校名為「中正國小」，請改填學校代碼（1、2）"):
        parsed("中正國小", twins)
    assert parsed("2", twins) == {"code": "2", "name": "中正國小"}


def test_a_school_filed_table_still_takes_only_the_filing_school():
    with pytest.raises(RuleError, match="須為貴校（新店國小）"):
        columns.parse(SCHOOL, "安坑國小", school_year=115, school_name="新店國小")


def test_the_convener_files_rows_for_two_of_its_schools_and_the_export_names_them(
    timetables, login, bureau, convener, coordinator, other_coordinator, beixin_school,
    xindian_school, jiangcui_school,
):  # fmt: skip
    url = file_url(timetables, beixin_school)
    client = login(convener)
    page = client.get(url).content.decode()
    assert '<datalist id="district-schools">' in page and '<option value="新店國小">' in page
    assert "江翠國中" not in page  # another district's school is not offered
    # one bad row refuses the whole table, naming the row and column; nothing is saved
    bad = row_post(timetables, [{**LESSON, "學校": "新店國小"}, {**LESSON, "學校": "江翠國中"}],
                   "submit")  # fmt: skip
    page = client.post(url, bad).content.decode()
    assert "第 2 列，欄位 學校：學校「江翠國中」不是文山分區的學校" in page
    response = Response.objects.get(survey=timetables, school=beixin_school)
    assert response.status != Status.SUBMITTED and response.offers.count() == 0
    good = row_post(timetables, [{**LESSON, "學校": "新店國小"},
                                 {**LESSON, "學校": "", "授課教師": "林老師"}], "submit")  # fmt: skip
    assert client.post(url, good).status_code == 302
    response.refresh_from_db()
    k = keys(timetables)["學校"]
    assert [o.values[k]["name"] for o in response.offers.order_by("position")] == [
        "新店國小", "北新國小"]  # fmt: skip

    ws = load_workbook(io.BytesIO(
        login(bureau).get(reverse("signups:export", args=[timetables.pk])).content)).active  # fmt: skip
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3)
            if isinstance(row[0].value, int)]  # fmt: skip
    assert [(r[1], r[2], r[6]) for r in body] == [("文山分區", "新店國小", "陳老師"),
                                                  ("文山分區", "北新國小", "林老師")]  # fmt: skip
    rows_page = login(bureau).get(reverse("signups:rows", args=[timetables.pk])).content.decode()
    assert rows_page.count("新店國小") == 1 and "{'code'" not in rows_page
    # neither 新店國小's coordinator nor another district's may file it or open its page
    for user in (coordinator, other_coordinator):
        assert login(user).post(url, good).status_code == 403
        assert login(user).get(url).status_code == 403
    assert response.offers.count() == 2


def test_the_districts_import_takes_its_schools_and_refuses_the_whole_file_otherwise(
    timetables, login, convener, beixin_school, django_capture_on_commit_callbacks
):
    def upload(schools):
        blank = load_workbook(io.BytesIO(resources.template_xlsx(timetables, beixin_school))).active
        labels = [c.value for c in blank[2]][1:]
        for n, name in enumerate(schools, start=1):
            blank.append([str(n)] + [{"學校": name, **LESSON}.get(x, "") for x in labels])
        out = io.BytesIO()
        blank.parent.save(out)
        file = SimpleUploadedFile("課表.xlsx", out.getvalue(), content_type=resources.XLSX_MIME)
        url = reverse("signups:import", args=[timetables.pk, beixin_school.pk])
        with django_capture_on_commit_callbacks(execute=True):
            login(convener).post(url, {"file": file})
        return ImportRun.objects.latest("pk")

    blank = load_workbook(io.BytesIO(resources.template_xlsx(timetables, beixin_school))).active
    notes = [r[0].value for r in blank.iter_rows(min_row=4) if r[0].value]
    assert notes == ["學校欄可填文山分區的任一學校（校名或學校代碼）：北新國小（014631）、"
                     "新店國小（014632）；留空即召集學校北新國小。"]  # fmt: skip
    run = upload(["新店國小", "江翠國中"])
    assert run.outcome == "refused" and len(run.problems) == 1
    assert "第 7 列，欄位 學校：" in run.problems[0] and "不是文山分區的學校" in run.problems[0]
    assert not Response.objects.get(school=beixin_school).offers.exists()
    run = upload(["新店國小", "014631"])
    assert run.outcome == "saved" and run.rows_saved == 2, run.problems


def test_a_district_school_reads_only_the_rows_sent_for_it(
    timetables, login, convener, coordinator, beixin_school, xindian_school, jiangcui_school,
):  # fmt: skip
    wenshan = xindian_school.district
    jingmei = factories.SchoolFactory(name="景美國小", code="014633", district=wenshan)
    url = file_url(timetables, beixin_school)
    survey_url = reverse("signups:survey", args=[timetables.pk])
    client = login(convener)
    # an unsent draft is not shown
    draft = row_post(timetables, [{**LESSON, "學校": "新店國小", "授課教師": "草稿老師"}], "save")
    assert client.post(url, draft).status_code == 302
    page = login(coordinator).get(survey_url).content.decode()
    assert "由分區召集學校代填" in page and "草稿老師" not in page and "沒有資料列" in page

    sent = row_post(timetables, [{**LESSON, "學校": "新店國小"},
                                 {**LESSON, "學校": "景美國小", "授課教師": "景美老師"},
                                 {**LESSON, "學校": "", "授課教師": "北新老師"}], "submit")  # fmt: skip
    client = login(convener)
    assert client.post(url, sent).status_code == 302
    # an edit kept apart from the sent answer is not shown either
    edit = row_post(timetables, [{**LESSON, "學校": "新店國小", "授課教師": "修改老師"}], "save")
    assert client.post(url, edit).status_code == 302
    assert Response.objects.get(survey=timetables, school=beixin_school).has_pending_edits

    reader = login(coordinator)
    page = reader.get(survey_url).content.decode()
    assert "陳老師" in page and "新店國小" in page
    hidden = ("景美老師", "北新老師", "修改老師", "草稿老師", 'name="action"', "{'code'")
    for text in hidden:
        assert text not in page
    # read-only: the filing URLs stay closed
    assert reader.get(url).status_code == 403
    assert reader.post(url, sent).status_code == 403
    reader.post(survey_url, sent)  # the reading page takes nothing
    assert Response.objects.get(survey=timetables, school=beixin_school).offers.count() == 3

    # 景美國小 reads its own row only
    page = login(factories.coordinator_of(jingmei, username="jingmei")).get(survey_url)
    assert "景美老師" in page.content.decode() and "陳老師" not in page.content.decode()
    # another district's school reads nothing of 文山's; a district without a convener: 404
    banqiao_school = factories.SchoolFactory(name="板橋國小", code="014502",
                                             district=jiangcui_school.district)  # fmt: skip
    page = login(factories.coordinator_of(banqiao_school, username="bq")).get(survey_url)
    assert page.status_code == 200 and "陳老師" not in page.content.decode()
    tamsui = factories.coordinator_of(
        factories.SchoolFactory(name="淡水二國小", code="014652",
                                district=District.objects.get(name="淡水分區")),
        username="tamsui")  # fmt: skip
    assert login(tamsui).get(survey_url).status_code == 404
    listing = login(tamsui).get(reverse("signups:list")).content.decode()
    assert "貴校不需填報" in listing and survey_url not in listing
