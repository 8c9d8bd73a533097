from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from portal import access
from portal.models import District, Membership, School


def _counts():
    return (District.objects.count(), School.objects.count(), get_user_model().objects.count(),
            Membership.objects.count())  # fmt: skip


def test_load_demo_creates_the_nine_districts_and_the_demo_people(db):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert District.objects.count() == 9
    for name in ("新店國小", "北新國小", "江翠國中"):
        assert School.objects.filter(name=name).exists()
    coordinator = get_user_model().objects.get(username="coordinator")
    assert access.is_coordinator_of(coordinator, School.objects.get(name="新店國小"))
    assert access.is_staff(get_user_model().objects.get(username="bureau"))
    assert "coordinator-demo-108" in out.getvalue()


def test_load_demo_twice_changes_nothing(db):
    call_command("load_demo", stdout=StringIO())
    first = _counts()
    call_command("load_demo", stdout=StringIO())
    assert _counts() == first


def test_load_demo_links_the_seed_report_item_to_the_winter_camp_survey(db):
    from meetings.models import Attachment

    call_command("load_demo", stdout=StringIO())  # once, on an empty database
    link = Attachment.objects.select_related("report_item").get(linked_id__isnull=False)
    assert "寒假青少年休閒育樂活動" in link.report_item.text
    assert "寒假" in link.linked.title


def test_load_demo_runs_every_apps_demo_foundation_first():
    from portal.demo import app_demos

    assert [label for label, _load in app_demos()] == [
        "portal", "meetings", "tracking", "signups", "vmquota",
    ]  # fmt: skip
