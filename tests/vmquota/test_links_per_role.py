"""Nobody is shown a link they may not follow: every vmquota page each role reaches, and every
link on it, answers that role (no 403, no 404). A convener has a district view."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.vmquota import factories
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import Incident

pytestmark = pytest.mark.django_db
LINK = re.compile(r'href="(/vmquota/[^"#?]*)')


def minutes_ago(m):
    return timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=m)


@pytest.fixture
def room(xindian_school, jiangcui_school):
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=2), mode="observe")
    hot = factories.vm("xd-web", xindian_school)
    factories.vm("jc-web", jiangcui_school)  # another district
    store([(hot.pk, minutes_ago(m), 99.0, 100.0) for m in range(40, -1, -1)])
    evaluate_cycle()
    assert Incident.objects.filter(vm=hot).exists()
    return hot


def crawl(client, start):
    """Every /vmquota/ page reachable from `start` by links; fails on any refused link."""
    seen, todo = set(), list(start)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        assert response.status_code == 200, f"{url} answers {response.status_code}"
        if "html" in response.get("Content-Type", ""):
            todo.extend(LINK.findall(response.content.decode()))
    return seen


@pytest.mark.parametrize("role", ["coordinator", "convener", "bureau"])
def test_no_vmquota_page_shows_a_role_a_link_it_may_not_follow(request, login, room, role):
    user = request.getfixturevalue(role)
    seen = crawl(login(user), ["/vmquota/", f"/vmquota/vms/{room.pk}/", "/"])
    assert f"/vmquota/vms/{room.pk}/" in seen
    incident = Incident.objects.filter(vm=room).first()
    assert f"/vmquota/incidents/{incident.pk}/" in seen
    assert ("/vmquota/board/" in seen) == (role == "bureau")


def test_a_convener_sees_their_districts_incidents_and_suspensions(
    login, convener, other_coordinator, room
):
    from vmquota.models import VirtualMachine

    VirtualMachine.objects.filter(pk=room.pk).update(state="paused")
    district = room.school.district
    client = login(convener)
    assert f"/vmquota/districts/{district.pk}/" in client.get("/vmquota/").content.decode()
    page = client.get(f"/vmquota/districts/{district.pk}/").content.decode()
    assert "xd-web" in page and "jc-web" not in page
    assert "進行中事件（1）" in page or "進行中事件（2）" in page
    assert "已暫停的虛擬機（1）" in page
    other = other_coordinator.memberships.get().school.district
    assert client.get(f"/vmquota/districts/{other.pk}/").status_code == 403
    assert login(other_coordinator).get(f"/vmquota/districts/{district.pk}/").status_code == 403
