"""An answer already sent stays sent while the school edits it: 儲存草稿 and an xlsx import keep
the edit apart; the bureau's grid and export keep the sent version until the school sends again.
A draft with errors is kept as typed, marked 未完成."""

from django.urls import reverse

from signups import resources, services
from signups.models import ImportRun, Offer, Response, Status
from tests.signups.conftest import GOOD_ROW, table_post
from tests.signups.test_excel import SEED_ROW, xlsx


def url(survey, school):
    return reverse("signups:file", args=[survey.pk, school.pk])


def sent(client, survey, school):
    client.post(url(survey, school), table_post([GOOD_ROW], action="submit"))
    return Response.objects.get(survey=survey, school=school)


def test_saving_a_draft_after_sending_keeps_the_answer_sent(
    login, coordinator, xindian_school, survey
):
    client = login(coordinator)
    sent(client, survey, xindian_school)
    edited = {**GOOD_ROW, "course_name": "進階班"}
    client.post(url(survey, xindian_school), table_post([edited, GOOD_ROW], action="save"))
    response = Response.objects.get()
    assert response.status == Status.SUBMITTED
    assert response.draft_complete and len(response.draft_rows) == 2
    assert list(Offer.objects.values_list("course_name", flat=True)) == [GOOD_ROW["course_name"]]
    change = response.changes.order_by("-id").first()
    assert (change.event, change.old_status, change.new_status) == ("saved", "submitted",
                                                                    "submitted")  # fmt: skip
    assert "第 1 版" in change.note

    # sending the kept edit (no table posted, as after an import) makes it the answer
    services.response_submit(response=response, by=coordinator)
    response.refresh_from_db()
    assert response.draft_rows is None and response.submissions.count() == 2
    assert list(Offer.objects.order_by("position").values_list("course_name", flat=True)) == [
        "進階班", GOOD_ROW["course_name"]]  # fmt: skip


def test_a_draft_with_errors_is_kept_as_typed_and_cannot_be_sent(
    login, coordinator, xindian_school, survey
):
    client = login(coordinator)
    bad = {**GOOD_ROW, "activity": "1/25", "capacity": "很多"}
    r = client.post(url(survey, xindian_school), table_post([bad], action="save"))
    assert r.status_code == 200
    page = r.content.decode()
    assert "已儲存草稿（未完成）：有 2 個問題" in page
    response = Response.objects.get()
    assert response.status == Status.DRAFT and not response.draft_complete
    assert response.draft_rows[0]["activity"] == "1/25"
    assert not Offer.objects.exists()
    again = client.get(url(survey, xindian_school)).content.decode()
    assert 'value="1/25"' in again and "未完成" in again and "除夕及春假" in again
    try:
        services.response_submit(response=response, by=coordinator)
    except services.SignupError as exc:
        assert "尚未完成的修改" in str(exc)
    else:
        raise AssertionError("an unfinished draft was sent")


def test_an_import_after_sending_keeps_the_sent_version(
    login, coordinator, bureau, xindian_school, survey
):
    response = sent(login(coordinator), survey, xindian_school)
    rows = [SEED_ROW, [*SEED_ROW[:3], "機器人", *SEED_ROW[4:]]]
    run = ImportRun.objects.create(response=response, by=coordinator, filename="a.xlsx",
                                   data=xlsx(rows))  # fmt: skip
    services.import_run_process(run_id=run.pk)
    run.refresh_from_db()
    response.refresh_from_db()
    assert run.outcome == "saved"
    assert response.status == Status.SUBMITTED and len(response.draft_rows) == 2
    assert resources.consolidated_offers(survey).count() == 1
    grid = login(bureau).get(reverse("signups:grid", args=[survey.pk])).content.decode()
    assert "已送出" in grid[grid.index('data-school="新店國小"') :][:400]
