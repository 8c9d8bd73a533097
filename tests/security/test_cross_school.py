"""Cross-school reads and writes are refused (and logged), forged fields are ignored.

The matrix (test_access_matrix.py) proves who reaches which URL; these tests prove what a refused
request leaves behind (nothing), and that fields a form does not have cannot change anything: the
same POST with and without the forged fields ends in the same state.
"""

import io

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import Workbook

from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def refused_and_logged(client, method, path, data=None, **extra):
    before = AuditEvent.objects.filter(action="access.refused", target=path).count()
    response = getattr(client, method.lower())(path, data or {}, **extra)
    assert response.status_code == 403, f"{method} {path}: HTTP {response.status_code}"
    assert AuditEvent.objects.filter(action="access.refused", target=path).count() == before + 1
    return response


def as_(client, world, role):
    client.force_login(world.people[role])
    return client


# --- signups: rows belong to the school in the URL, and only its coordinator files them -----------


def file_url(world, school):
    return reverse("signups:file", args=[world.survey.pk, school.pk])


ROW = {
    "category": "技能研習", "course_name": "Scratch 遊戲設計", "activity": "2/7", "venue": "新店國小",
    "fee": "免費", "registration": "12/25~1/3", "grade_from": "3", "grade_to": "4",
    "gender": "open", "capacity": "25",
}  # fmt: skip


def table(rows, action="save", **extra):
    data = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0",
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000", "action": action, **extra}  # fmt: skip
    for i, row in enumerate(rows):
        data.update({f"rows-{i}-{k}": v for k, v in row.items()})
        data[f"rows-{i}-ORDER"] = str(i + 1)
    return data


def signups_state(world):
    from signups.models import Offer, Response

    return {
        school.name: (
            list(
                Response.objects.filter(survey=world.survey, school=school).values_list(
                    "status", flat=True
                )
            ),
            sorted(
                Offer.objects.filter(
                    response__survey=world.survey, response__school=school
                ).values_list("course_name", "venue", "capacity")
            ),
        )  # fmt: skip
        for school in (world.xindian, world.jiangcui, world.beixin)
    }


@pytest.mark.parametrize("role", ["other_coordinator", "convener", "bureau"])
def test_only_the_schools_own_coordinator_files_its_rows(world, client, role):
    before = signups_state(world)
    refused_and_logged(as_(client, world, role), "POST", file_url(world, world.xindian),
                       table([ROW], action="submit"))  # fmt: skip
    assert signups_state(world) == before


def test_another_school_cannot_read_the_rows_or_their_spreadsheet(world, client):
    client = as_(client, world, "other_coordinator")
    response = refused_and_logged(client, "GET", file_url(world, world.xindian))
    assert "FUN Coding" not in response.content.decode()
    template = reverse("signups:template", args=[world.survey.pk, world.xindian.pk])
    response = refused_and_logged(client, "GET", template)
    assert not response.get("Content-Disposition")


def test_another_school_cannot_import_a_spreadsheet_into_the_rows(world, client):
    book = Workbook()
    book.active.append(["FORGED"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "rows.xlsx"
    before = signups_state(world)
    path = reverse("signups:import", args=[world.survey.pk, world.xindian.pk])
    refused_and_logged(as_(client, world, "other_coordinator"), "POST", path, {"file": data})
    assert signups_state(world) == before


@pytest.mark.parametrize("name", ["signups:export", "signups:rows", "signups:grid"])
def test_a_coordinator_cannot_export_every_schools_rows(world, client, name):
    response = refused_and_logged(
        as_(client, world, "coordinator"), "GET", reverse(name, args=[world.survey.pk])
    )
    assert "江翠國中" not in response.content.decode()


def after(client, path, data, snapshot):
    """The state a POST leaves, undone afterwards (a savepoint), so two variants can be compared."""
    with transaction.atomic():
        response = client.post(path, data)
        state = snapshot()
        transaction.set_rollback(True)
    return response, state


def test_forged_school_and_status_fields_in_the_filing_are_ignored(world, client):
    client = as_(client, world, "coordinator")
    path = file_url(world, world.xindian)
    # sent, not saved as a draft: a draft never changes what the bureau sees
    honest, honest_state = after(client, path, table([ROW], action="submit"),
                                 lambda: signups_state(world))  # fmt: skip
    forged = table([ROW], action="submit", school=str(world.jiangcui.pk), school_pk=str(world.jiangcui.pk),
                   status="submitted", **{"rows-0-school": str(world.jiangcui.pk),
                                          "rows-0-status": "submitted", "response": "1"})  # fmt: skip
    response, forged_state = after(client, path, forged, lambda: signups_state(world))
    assert honest.status_code == response.status_code == 302
    assert forged_state == honest_state
    assert ("Scratch 遊戲設計", "新店國小", 25) in forged_state["新店國小"][1]
    assert forged_state["江翠國中"] == ([], [])


# --- tracking: a status update cannot close an item or move it ------------------------------------


def tracking_state(world):
    from tracking.models import Subscription, TrackedItem

    item = TrackedItem.objects.get(pk=world.open_item.pk)
    return (
        item.state,
        item.division_id,
        list(item.updates.values_list("text", flat=True)),
        sorted(Subscription.objects.filter(item=item).values_list("user__username", flat=True)),
    )


def test_forged_state_and_division_in_a_status_update_are_ignored(world, client):
    from portal.models import Division

    client = as_(client, world, "bureau")
    path = reverse("tracking:update", args=[world.open_case_no])
    text = {"text": "已完成需求訪談。"}
    _, honest_state = after(client, path, text, lambda: tracking_state(world))
    forged = {**text, "state": "closed", "status": "closed", "decision": "close",
              "division": str(Division.objects.exclude(pk=world.open_item.division_id).first().pk)}  # fmt: skip
    response, forged_state = after(client, path, forged, lambda: tracking_state(world))
    assert response.status_code == 302
    assert forged_state == honest_state
    assert forged_state[0] == "open"


def test_subscribing_cannot_subscribe_someone_else(world, client):
    client = as_(client, world, "coordinator")
    path = reverse("tracking:subscribe", args=[world.open_case_no])
    forged = {"user": str(world.people["other_coordinator"].pk),
              "user_id": str(world.people["other_coordinator"].pk)}  # fmt: skip
    response, state = after(client, path, forged, lambda: tracking_state(world))
    assert response.status_code == 302
    assert "jiangcui-coordinator" not in state[3]
    assert "xindian-coordinator" in state[3]


def test_a_coordinator_cannot_post_a_status_update(world, client):
    before = tracking_state(world)
    path = reverse("tracking:update", args=[world.open_case_no])
    refused_and_logged(as_(client, world, "coordinator"), "POST", path, {"text": "偽造"})
    assert tracking_state(world) == before


# --- meetings: the edit form cannot publish -------------------------------------------------------


def test_a_forged_status_in_the_meeting_form_does_not_publish_it(world, client):
    from meetings.models import Meeting

    client = as_(client, world, "bureau")
    path = reverse("meetings:edit", args=[world.draft.pk])
    header = {
        "title": "108 年度 10 月份聯席會議（修訂）",
        "held_on": "108/10/15",
        "place": "新店國小",
    }

    def state():
        m = Meeting.objects.get(pk=world.draft.pk)
        return m.status, m.published_at, m.title

    honest, honest_state = after(client, path, header, state)
    forged = {**header, "status": "published", "published_at": "2019-10-16T10:00",
              "is_published": "on", "created_by": str(world.people["coordinator"].pk)}  # fmt: skip
    response, forged_state = after(client, path, forged, state)
    assert honest.status_code == response.status_code == 302, "the header form was accepted"
    assert forged_state == honest_state
    assert forged_state[0] != Meeting.Status.PUBLISHED


# --- vmquota: a school's VMs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "vm"),
    [("other_coordinator", "xindian_vm"), ("coordinator", "jiangcui_vm"),
     ("coordinator", "beixin_vm"), ("convener", "jiangcui_vm")],
)  # fmt: skip
def test_a_vm_of_another_school_is_refused(world, client, role, vm):
    vm = getattr(world, vm)
    response = refused_and_logged(
        as_(client, world, role), "GET", reverse("vmquota:vm", args=[vm.pk])
    )
    assert vm.name not in response.content.decode()
    refused_and_logged(client, "GET", reverse("vmquota:school", args=[vm.school.code]))


@pytest.mark.parametrize("role", ["coordinator", "other_coordinator", "convener"])
def test_only_bureau_staff_resume_a_vm(world, client, role):
    from vmquota.models import Action

    before = Action.objects.count()
    path = reverse("vmquota:vm_resume", args=[world.xindian_vm.pk])
    refused_and_logged(as_(client, world, role), "POST", path, {"reason": "請恢復"})
    assert Action.objects.count() == before


def test_the_schools_own_vm_list_shows_only_its_vms(world, client):
    response = as_(client, world, "coordinator").get(
        reverse("vmquota:school", args=[world.xindian.code])
    )
    page = response.content.decode()
    assert world.xindian_vm.name in page
    assert world.jiangcui_vm.name not in page and world.beixin_vm.name not in page


# --- every refusal is logged with who, what and from where ----------------------------------------


def test_a_refusal_records_who_what_and_from_where(world, client):
    client = as_(client, world, "other_coordinator")
    path = file_url(world, world.xindian)
    client.get(path, REMOTE_ADDR="203.0.113.9")
    event = AuditEvent.objects.filter(action="access.refused", target=path).latest("id")
    assert event.actor == world.people["other_coordinator"]
    assert event.ip == "203.0.113.9"
    assert event.detail["method"] == "GET" and event.detail["reason"]


# --- an object from one URL cannot be reached through another's -----------------------------------


def test_a_drafts_attachment_cannot_be_fetched_through_published_minutes(world, client):
    path = reverse("meetings:attachment", args=[world.published.pk, world.draft_attachment.pk])
    assert as_(client, world, "coordinator").get(path).status_code == 404
    own = reverse("meetings:attachment", args=[world.published.pk, world.published_attachment.pk])
    assert client.get(own).status_code == 200, "the published meeting's own file is served"


def test_another_schools_import_result_cannot_be_read_through_ones_own_school(world, client):
    path = reverse("signups:import_result",
                   args=[world.survey.pk, world.jiangcui.pk, world.import_run.pk])  # fmt: skip
    response = as_(client, world, "other_coordinator").get(path)
    assert response.status_code == 404
    assert world.import_run.filename not in response.content.decode()


def test_an_item_of_one_meeting_cannot_be_edited_through_another(world, client):
    from meetings.models import ReportItem

    item = ReportItem.objects.filter(meeting=world.published).order_by("id").first()
    path = reverse("meetings:item_update", args=[world.draft.pk, item.pk])
    response = as_(client, world, "bureau").post(path, {"text": "改寫", "reason": "測試"})
    assert response.status_code == 404
    assert ReportItem.objects.get(pk=item.pk).text != "改寫"


# --- unpublished minutes stay unpublished ---------------------------------------------------------

DRAFT_SECRETS = ["草稿中的報告事項", "草稿提案"]  # made by tests/security/world.py


def _member_pages(world):
    from .matrix import MATRIX, path_for

    for row in MATRIX:
        policy = row.methods.get("GET")
        if policy and policy["coordinator"] == "ok" and not row.name.startswith("vmquota:api"):
            yield row.id, path_for(row, world)


def test_a_drafts_content_shows_on_no_page_a_coordinator_can_open(world, client):
    client = as_(client, world, "coordinator")
    leaks = {}
    for row_id, path in _member_pages(world):
        response = client.get(path, follow=True)
        if response.status_code != 200:
            continue
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")
        found = [s for s in DRAFT_SECRETS if s in body]
        if found:
            leaks[row_id] = found
    assert leaks == {}
    bureau = as_(client, world, "bureau")
    detail = bureau.get(reverse("meetings:detail", args=[world.draft.pk])).content.decode()
    assert all(s in detail for s in DRAFT_SECRETS), "the secrets are really in the draft"
