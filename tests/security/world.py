"""The world the security and accessibility tests walk: every app's demo data plus the people of
tests/conftest.py, and the few objects a URL needs that the demos do not make (a draft meeting,
a background job, a what-if run).

Shared by tests/security/test_access_matrix.py and tests/e2e/test_accessibility.py.
"""

from dataclasses import dataclass, field
from datetime import date

from tests import factories

ROLES = ["anonymous", "coordinator", "other_coordinator", "convener", "bureau", "sysadmin"]

# Passwords of the people: the factories' one. Browser tests log in with it.
PASSWORD = factories.PASSWORD


@dataclass
class World:
    people: dict = field(default_factory=dict)  # role -> User (no entry for anonymous)
    objects: dict = field(default_factory=dict)  # name -> object or plain value

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def load_demos():
    from portal.demo import app_demos  # every app's demo loader, as manage.py load_demo runs them

    loaded = []
    for app, load in app_demos():
        load()
        loaded.append(app)
    return loaded


def build_world():
    """The same people as tests/conftest.py's fixtures (same factories, same names), then every
    demo loader, then the handful of extra objects the URL table refers to."""
    from portal.models import School

    wenshan = factories.DistrictFactory(name="文山分區", position=4)
    banqiao = factories.DistrictFactory(name="板橋分區", position=1)
    xindian = factories.SchoolFactory(name="新店國小", code="014632", district=wenshan)
    factories.SchoolFactory(name="北新國小", code="014631", district=wenshan)
    jiangcui = factories.SchoolFactory(name="江翠國中", code="014501", district=banqiao)
    world = World()
    world.people = {
        "coordinator": factories.coordinator_of(xindian, username="xindian-coordinator"),
        "other_coordinator": factories.coordinator_of(jiangcui, username="jiangcui-coordinator"),
        "convener": factories.convener_of(wenshan, username="wenshan-convener"),
        "bureau": factories.bureau_staff(username="bureau-clerk"),
        "sysadmin": factories.admin_user(),
    }
    world.objects["apps"] = load_demos()
    o = world.objects
    o["xindian"] = School.objects.get(code="014632")
    o["jiangcui"] = School.objects.get(code="014501")
    o["beixin"] = School.objects.get(code="014631")
    o["bogus_token"] = "no-such-invitation"
    _portal_objects(world)
    if "meetings" in o["apps"]:
        _meetings_objects(world)
    if "tracking" in o["apps"]:
        _tracking_objects(world)
    if "signups" in o["apps"]:
        _signups_objects(world)
    if "vmquota" in o["apps"]:
        _vmquota_objects(world)
    return world


def _portal_objects(world):
    from portal.models import BackgroundJob, Invitation

    world.objects["job"] = BackgroundJob.objects.create(
        kind="security-test", title="新店國小的匯入", created_by=world.people["coordinator"]
    )
    world.objects["invitation"] = Invitation.objects.create(
        email="lin@xdes.ntpc.edu.tw", school=world.objects["xindian"],
        invited_by=world.people["bureau"],
    )  # fmt: skip


def _meetings_objects(world):
    from meetings import services
    from meetings.models import FeedKey, Meeting, Motion, ReportItem
    from portal.models import Division

    bureau = world.people["bureau"]
    o = world.objects
    o["published"] = Meeting.objects.filter(status=Meeting.Status.PUBLISHED).order_by("id").first()
    draft = services.meeting_create(
        user=bureau, title="108 年度 10 月份九大分區資訊組長聯席會議", held_on=date(2019, 10, 15)
    )
    services.report_item_add(
        meeting=draft, user=bureau, division=Division.objects.order_by("id").first(),
        text="草稿中的報告事項",
    )  # fmt: skip
    services.motion_add(meeting=draft, user=bureau, kind=Motion.Kind.PROPOSAL, subject="草稿提案")
    o["draft"] = draft
    o["draft_item"] = ReportItem.objects.filter(meeting=draft).order_by("id").first()
    o["draft_motion"] = Motion.objects.filter(meeting=draft).order_by("id").first()
    o["feed_key"] = FeedKey.objects.create(
        user=world.people["coordinator"], key="coordinator-feed-key-for-tests"
    ).key
    _meetings_attachments_and_import(world)
    _meetings_convening(world)


def _meetings_convening(world):
    """A meeting whose notice is out, and a draft proposal its 文山分區 convener wrote for it."""
    from datetime import time

    from meetings import convening, proposals

    bureau, o = world.people["bureau"], world.objects
    noticed = convening.meeting_plan(
        user=bureau, title="115 年度 10 月份聯席會議", held_on=date(2026, 10, 13),
        start_time=time(10, 0), place="研發中心",
    )  # fmt: skip
    convening.notice_publish(meeting=noticed, user=bureau)
    o["noticed"] = noticed
    o["draft_proposal"] = proposals.proposal_create(
        meeting=noticed, user=world.people["convener"], district=world.people["convener"]
        .memberships.get().district, subject="草稿中的提案", explanation="說明",
    )  # fmt: skip
    from meetings import attendance

    coordinator = world.people["coordinator"]
    o["timetable_note"] = attendance.timetable_note_add(
        meeting=noticed, user=coordinator, school=coordinator.memberships.get().school,
        teacher="陳組長", classes="週三第 4 節",
    )  # fmt: skip


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _meetings_attachments_and_import(world):
    """A file attached to the published and to the draft minutes, and a finished import preview
    (the import runs as background jobs). Skipped while meetings has no such feature."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from meetings import services

    o, bureau = world.objects, world.people["bureau"]
    if hasattr(services, "attachment_add"):
        for name, meeting, reason in (("published_attachment", o["published"], "補附件"),
                                      ("draft_attachment", o["draft"], "")):  # fmt: skip
            o[name] = services.attachment_add(
                meeting=meeting, user=bureau, title="會議簡報",
                upload=SimpleUploadedFile("slides.pdf", PDF, "application/pdf"), reason=reason,
            )  # fmt: skip
    try:
        from meetings import tasks
        from meetings.views import IMPORT_PREVIEW
    except ImportError:
        return
    from portal.models import BackgroundJob

    job = BackgroundJob.objects.create(
        kind=IMPORT_PREVIEW, title="匯入會議紀錄：讀取與預覽", created_by=bureau,
        params={"text": seed_text(month=11)},
    )  # fmt: skip
    tasks.import_preview(job.pk)
    o["import_job"] = job


def seed_text(month=11, **replacements):
    """The seed minutes moved to another month (so importing them again is a new meeting), with
    `replacements` {old: new} applied."""
    from meetings.demo import SEED

    text = SEED.read_text(encoding="utf-8")
    text = text.replace("108 年 9 月 10 日", f"108 年 {month} 月 12 日")
    text = text.replace("9 月份", f"{month} 月份")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def _tracking_objects(world):
    from tracking.models import Review, TrackedItem

    o = world.objects
    item = TrackedItem.objects.filter(state=TrackedItem.State.OPEN).order_by("case_no").first()
    o["open_case_no"] = item.case_no
    o["open_item"] = item
    o["review"] = Review.objects.order_by("id").first()
    o["tracking_meeting"] = o.get("published") or o["review"].meeting


def _signups_objects(world):
    from signups.models import Response, Survey

    o = world.objects
    o["survey"] = Survey.objects.order_by("id").first()
    try:
        from signups.models import ImportRun
    except ImportError:
        return
    o["import_run"] = ImportRun.objects.create(
        response=Response.objects.get(survey=o["survey"], school=o["xindian"]),
        by=world.people["coordinator"], filename="新店國小.xlsx", outcome="refused",
        problems=["第 1 欄應為「項次」"],
    )  # fmt: skip


def _vmquota_objects(world):
    from vmquota.models import VirtualMachine, WhatIfRun

    o = world.objects
    o["xindian_vm"] = VirtualMachine.objects.get(name="xdes-web")
    o["jiangcui_vm"] = VirtualMachine.objects.get(name="jtjhs-nas")
    o["beixin_vm"] = VirtualMachine.objects.get(name="psps-moodle")
    o["xindian_code"] = o["xindian"].code
    o["whatif_run"] = WhatIfRun.objects.create(
        created_by=world.people["bureau"], params={"rules": []}
    )
    # an ended incident of 新店國小's VM (its page has the VM's readers) and the VM view of its district
    from django.utils import timezone

    from vmquota.models import Incident, Rule

    rule = Rule.objects.order_by("id").first()
    if rule is not None:
        now = timezone.now()
        o["xindian_incident"] = Incident.objects.create(
            vm=o["xindian_vm"], rule=rule, streak_start=now, fired_at=now, ended_at=now,
            end_reason="recovered", first_value=rule.threshold, fired_value=rule.threshold,
        )  # fmt: skip
    o["wenshan"] = o["xindian"].district
