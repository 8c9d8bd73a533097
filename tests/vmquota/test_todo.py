"""本週待辦 from the VM room: a coordinator's school's open incidents and suspended VMs, a
convener's district's, every open incident for bureau staff and admins; observe-only incidents and
ended ones are not work. Every line links to a page its reader may open."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from tests.vmquota import factories
from vmquota.models import Incident
from vmquota.todo import todos


def _todos(user):
    request = RequestFactory().get("/")
    request.user = user
    return todos(request)


def _texts(user):
    return [t.text for t in _todos(user)]


@pytest.fixture
def rule(db):
    return factories.seed_policy().rules.first()


def _incident(vm, rule, **fields):
    fired = timezone.now() - timedelta(minutes=5)
    return Incident.objects.create(
        vm=vm, rule=rule, streak_start=fired - timedelta(minutes=30), fired_at=fired,
        first_value=99, fired_value=99, **fields,
    )  # fmt: skip


@pytest.fixture
def room(rule, xindian_school, beixin_school, jiangcui_school):
    """新店's web server over the limit, 北新's mail server paused, 江翠's (another district)
    over the limit too, and records that are not work: observed only, ended."""
    web = factories.vm("xd-web", xindian_school)
    _incident(web, rule)
    factories.vm("bx-mail", beixin_school, state="paused")
    _incident(factories.vm("jc-web", jiangcui_school), rule)
    _incident(factories.vm("xd-lab", xindian_school), rule, observe_only=True)
    ended = _incident(factories.vm("xd-old", xindian_school), rule)
    Incident.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    return web


def test_a_coordinator_sees_only_the_schools_open_incidents(room, coordinator, login):
    (line,) = _todos(coordinator)
    assert line.text == "虛擬機 xd-web 超過資源限制" and line.label == "事件"
    assert login(coordinator).get(line.url).status_code == 200


def test_a_coordinator_is_told_when_a_vm_of_the_school_is_suspended(room, coordinator):
    room.state = "paused"
    room.save()
    assert "虛擬機 xd-web 已被暫停" in _texts(coordinator)


def test_a_convener_sees_the_districts_incidents_and_suspensions(room, convener, login):
    lines = _todos(convener)
    assert sorted(t.text for t in lines) == [
        "北新國小的虛擬機 bx-mail 已被暫停",
        "新店國小的虛擬機 xd-web 超過資源限制",
    ]
    client = login(convener)
    assert all(client.get(t.url).status_code == 200 for t in lines)


def test_bureau_staff_and_admins_see_every_open_incident(room, bureau, sysadmin, login):
    expected = ["新店國小的虛擬機 xd-web 超過資源限制", "江翠國中的虛擬機 jc-web 超過資源限制"]
    assert sorted(_texts(bureau)) == expected
    assert sorted(_texts(sysadmin)) == expected


def test_more_incidents_than_shown_end_with_a_line_to_the_board(rule, bureau, xindian_school):
    for n in range(7):
        _incident(factories.vm(f"xd-{n}", xindian_school), rule)
    lines = _todos(bureau)
    assert len(lines) == 6 and lines[-1].url == "/vmquota/board/"


def test_the_home_page_lists_a_new_incident_at_once(room, rule, coordinator, login, xindian_school):
    client = login(coordinator)
    assert "虛擬機 xd-db 超過資源限制" not in client.get("/").content.decode()
    _incident(factories.vm("xd-db", xindian_school), rule)
    assert "虛擬機 xd-db 超過資源限制" in client.get("/").content.decode()
