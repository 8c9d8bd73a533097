"""The world the security and accessibility tests walk: every app's demo data plus the people of
tests/conftest.py, and the few objects a URL needs that the demos do not make (a draft meeting,
a background job, a what-if run).

Shared by tests/security/test_access_matrix.py and tests/e2e/test_accessibility.py.
"""

import importlib
from dataclasses import dataclass, field
from datetime import date

from tests import factories

# every app that ships a demo loader, in the order manage.py load_demo runs them
DEMO_APPS = ["portal", "meetings", "tracking", "signups", "vmquota"]

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
    loaded = []
    for app in DEMO_APPS:
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        module.load()
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
    from portal.models import BackgroundJob

    world.objects["job"] = BackgroundJob.objects.create(
        kind="security-test", title="新店國小的匯入", created_by=world.people["coordinator"]
    )


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


def _tracking_objects(world):
    from tracking.models import Review, TrackedItem

    o = world.objects
    item = TrackedItem.objects.filter(state=TrackedItem.State.OPEN).order_by("case_no").first()
    o["open_case_no"] = item.case_no
    o["open_item"] = item
    o["review"] = Review.objects.order_by("id").first()
    o["tracking_meeting"] = o.get("published") or o["review"].meeting


def _signups_objects(world):
    from signups.models import Survey

    world.objects["survey"] = Survey.objects.order_by("id").first()


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
