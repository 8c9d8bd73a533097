"""Sub-navigation marks where the reader is: on every page of a section that has one (the VM room,
a survey's bureau pages, a coming meeting's pages), the sub-nav is there and exactly one of its
links is marked – aria-current="page" on that page's own link, or aria-current="true" on the
section a page lies under (a VM under 虛擬機, a what-if result under 試算)."""

import re
import uuid
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import convening
from signups import services as signups_services
from tests.vmquota import factories as vm_factories
from vmquota.models import Incident, WhatIfRun


class _SubNavs(HTMLParser):
    """Each <nav class="… subnav …">: its links as (href, aria-current or None)."""

    def __init__(self):
        super().__init__()
        self.navs, self._depth = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            if self._depth:
                self._depth += 1
            elif "subnav" in (attrs.get("class") or "").split():
                self.navs.append([])
                self._depth = 1
        elif tag == "a" and self._depth:
            self.navs[-1].append((attrs.get("href"), attrs.get("aria-current")))

    def handle_endtag(self, tag):
        if tag == "nav" and self._depth:
            self._depth -= 1


def subnavs(html):
    parser = _SubNavs()
    parser.feed(html)
    return parser.navs


@pytest.fixture
def world(bureau, xindian_school):
    """A VM with an incident, a survey, a coming meeting, a what-if run."""
    rule = vm_factories.seed_policy(actor=bureau).rules.first()
    vm = vm_factories.vm("xd-web", xindian_school, uid=uuid.uuid4())
    fired = timezone.now() - timedelta(minutes=5)
    incident = Incident.objects.create(
        vm=vm, rule=rule, streak_start=fired - timedelta(minutes=30), fired_at=fired,
        first_value=99, fired_value=99,
    )  # fmt: skip
    now = timezone.now()
    survey = signups_services.survey_create(
        by=bureau, title="寒假營隊開辦調查表", opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10), school_year=108, categories="技能研習",
        window_label="寒假", activity_starts_on=date(2020, 1, 21),
        activity_ends_on=date(2020, 2, 10),
    )  # fmt: skip
    held_on = timezone.localdate() + timedelta(days=30)
    meeting = convening.meeting_plan(
        user=bureau, title="10 月份聯席會議", held_on=held_on, start_time=time(10, 0),
        proposals_due=timezone.make_aware(datetime.combine(held_on - timedelta(days=7), time(17))),
    )  # fmt: skip
    run = WhatIfRun.objects.create(created_by=bureau, params={}, status="done")
    return {"vm": vm, "incident": incident, "survey": survey, "meeting": meeting, "run": run,
            "school": xindian_school}  # fmt: skip


def pages(w):
    """{url: (the link marked, its aria-current)} for every page of a section with a sub-nav."""
    vm, s, m = w["vm"], w["survey"].pk, w["meeting"].pk
    own = {
        "vmquota:index": [], "vmquota:policy": [], "vmquota:board": [],
        "vmquota:exemptions": [], "vmquota:whatif": [], "vmquota:tokens": [],
        "vmquota:upload": [],
        "signups:grid": [s], "signups:rows": [s], "signups:edit": [s],
        "meetings:agenda": [m], "meetings:proposals": [m], "meetings:division_reports": [m],
    }  # fmt: skip
    found = {
        reverse(name, args=args): (reverse(name, args=args), "page") for name, args in own.items()
    }
    index, whatif, policy = (
        reverse(n) for n in ("vmquota:index", "vmquota:whatif", "vmquota:policy")
    )
    found |= {
        reverse("vmquota:vm", args=[vm.pk]): (index, "true"),
        reverse("vmquota:vm_history", args=[vm.pk]): (index, "true"),
        reverse("vmquota:school", args=[w["school"].code]): (index, "true"),
        reverse("vmquota:incident", args=[w["incident"].pk]): (index, "true"),
        reverse("vmquota:whatif_result", args=[w["run"].pk]): (whatif, "true"),
        reverse("vmquota:policy_new"): (policy, "true"),
    }
    return found


def test_every_staff_page_with_a_subnav_marks_exactly_its_own_link(login, bureau, world):
    client = login(bureau)
    wrong = {}
    for url, expected in pages(world).items():
        response = client.get(url)
        assert response.status_code == 200, url
        navs = subnavs(response.content.decode())
        marked = [[(href, current) for href, current in nav if current] for nav in navs]
        # each sub-nav marks one link (a VM's history has its periods too); the section's is ours
        if not navs or any(len(m) != 1 for m in marked) or [expected] not in marked:
            wrong[url] = marked or "no sub-nav"
    assert wrong == {}


def test_a_convener_sees_their_district_marked_on_the_district_page(login, convener, wenshan):
    html = login(convener).get(reverse("vmquota:district", args=[wenshan.pk])).content.decode()
    (nav,) = subnavs(html)
    assert [href for href, current in nav if current == "page"] == [
        reverse("vmquota:district", args=[wenshan.pk])
    ]
    assert reverse("vmquota:board") not in [href for href, _ in nav]  # staff only


def test_the_marker_is_visible_not_only_announced():
    css = open("static/css/portal.css", encoding="utf-8").read()
    rule = re.search(r'[^{}]*\.subnav a\[aria-current="page"\][^{}]*\{([^}]*)\}', css)
    assert rule and "text-decoration" in rule.group(1) and "font-weight" in rule.group(1)
