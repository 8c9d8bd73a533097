"""Query budgets: every page runs a fixed number of SQL queries whatever the size of the data.

Each test builds a small world, counts the queries of each page under
`django_assert_max_num_queries(budget)`, grows every kind of row several times over, and counts
again. A page fails when it exceeds its budget at either size or when its count grows with the
data (an N+1 query). Pages whose app engineers wrote such a test are counted here too, so that
the home page with every app's block, the portal's own pages and every other page have one.

Pages are counted as built, with the cache emptied first: a page served from cached fragments
(portal/fragments.py) runs fewer queries, and would hide a builder that reads one row at a time.

Each budget is the count measured when the test was written plus 2, so a new query or two is
fine and a query per row is not. Budgets include the foundation's per-request cost: Django's
session, the person and their roles (3 queries; portal/access.py reads the roles once per request).
The session is written back at most once a minute (portal/security.py), not on every request.
"""

import uuid
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from meetings.models import FeedKey, Meeting, MeetingSeries, Motion, ReportItem
from meetings.services import search_index_rebuild
from portal.models import AuditEvent, BackgroundJob
from signups import services as signups_services
from signups.models import Offer, Response, Status
from tests import factories
from tracking.models import Change, Review, StatusUpdate, TrackedItem
from vmquota.ingest import store
from vmquota.models import Action, CollectorToken, Exemption, Incident, WhatIfRun
from vmquota.policy import policy_version_create

SMALL, GROWTH = 2, 12  # rows of each kind first, then added (N+1 shows as ≥ 12 more queries)


class World:
    """The people of tests/conftest.py and rows of every app, grown on demand."""

    def __init__(self, coordinator, convener, bureau, xindian_school):
        self.coordinator, self.convener, self.bureau = coordinator, convener, bureau
        self.school = xindian_school
        self.divisions = [
            factories.DivisionFactory(name=name, position=i)
            for i, name in enumerate(("資訊推廣組", "系統平臺組", "網管資安組"), start=1)
        ]
        self.series = MeetingSeries.objects.create(
            name="九大分區資訊組長聯席會議", organiser="召集學校"
        )
        self.meetings, self.items, self.vms = [], [], []
        self.n = 0
        now = timezone.now()
        self.survey = signups_services.survey_create(
            by=bureau, title="寒假營隊開辦調查表", opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10), school_year=108, categories="技能研習",
            window_label="寒假", activity_starts_on=date(2020, 1, 21),
            activity_ends_on=date(2020, 2, 10),
            blackouts=[("除夕及春假", date(2020, 1, 23), date(2020, 1, 29))],
        )  # fmt: skip
        self.response = Response.objects.create(
            survey=self.survey, school=xindian_school, status=Status.DRAFT
        )
        FeedKey.objects.create(user=coordinator, key="perf-feed-key")
        self.job = BackgroundJob.objects.create(kind="bench", title="匯入", created_by=bureau)
        self.whatif = WhatIfRun.objects.create(created_by=bureau, params={}, status="done")

    def grow(self, k):
        """Add k rows of every kind that a page lists."""
        start, self.n = self.n, self.n + k
        now = timezone.now()
        for i in range(start, self.n):
            self._meeting(i)
        self._tracked_items(start)
        district = self.school.district
        schools = [
            factories.SchoolFactory(code=f"P{i:05d}", name=f"測試{i}國小", district=district)
            for i in range(start, self.n)
        ]
        for school in schools:
            factories.coordinator_of(school, username=f"perf-coord-{school.code}")
            factories.UserFactory(username=f"perf-waiting-{school.code}")  # no role yet
            response = Response.objects.create(
                survey=self.survey, school=school, status=Status.SUBMITTED, submitted_at=now
            )
            Offer.objects.bulk_create([self._offer(response, p) for p in (1, 2)])
        Offer.objects.bulk_create(self._offer(self.response, 100 + p) for p in range(start, self.n))
        AuditEvent.objects.bulk_create(
            AuditEvent(actor=self.bureau, actor_label="bureau", action="perf.test", target=str(i))
            for i in range(start * 10, self.n * 10)
        )
        self._vms(start, now)

    def _offer(self, response, position):
        return Offer(
            response=response, position=position, category="技能研習", course_name=f"營隊 {position}",
            activity_starts_on=date(2020, 2, 3), activity_ends_on=date(2020, 2, 4), venue="電腦教室",
            registration_starts_on=date(2019, 12, 25), registration_ends_on=date(2020, 1, 3),
            grade_from=4, grade_to=6, capacity=20,
        )  # fmt: skip

    def _meeting(self, i):
        held_on = date(2019, 1, 10) + timedelta(days=31 * i)
        meeting = Meeting.objects.create(
            series=self.series, title=f"第 {i} 次聯席會議", held_on=held_on,
            status=Meeting.Status.PUBLISHED, published_at=timezone.now(), place="網管會議室",
        )  # fmt: skip
        tops = ReportItem.objects.bulk_create(
            ReportItem(meeting=meeting, division=self.divisions[p % 3], position=p,
                       text=f"資安宣導項目 {p}。")
            for p in range(1, 7)
        )  # fmt: skip
        ReportItem.objects.bulk_create(
            ReportItem(meeting=meeting, division=t.division, parent=t, position=1, text="子項目。")
            for t in tops
        )
        Motion.objects.bulk_create(
            Motion(
                meeting=meeting,
                kind=kind,
                position=1,
                subject="資安案由。",
                resolution="照案通過。",
            )
            for kind in (Motion.Kind.PROPOSAL, Motion.Kind.EXTEMPORE)
        )
        self.meetings.append(meeting)

    def _tracked_items(self, start):
        new = []
        for i in range(start, self.n):
            meeting = self.meetings[i]
            for seq in (1, 2):
                new.append(
                    TrackedItem(
                        case_no=f"{meeting.held_on.year - 1911}-{meeting.held_on.month:02d}-{seq:02d}",
                        subject=f"資安列管事項 {i}-{seq}", division=self.divisions[seq],
                        origin_meeting=meeting, position=seq, opened_on=meeting.held_on,
                        last_update_at=timezone.now(),
                    )
                )  # fmt: skip
        TrackedItem.objects.bulk_create(new)
        self.items += new
        latest = self.meetings[-1]
        reviews = Review.objects.bulk_create(
            Review(
                item=item, meeting=latest, position=n, previous_status="/", current_status="辦理中"
            )
            for n, item in enumerate(new, start=len(self.items))
        )
        StatusUpdate.objects.bulk_create(
            StatusUpdate(item=r.item, review=r, author=self.bureau, text="辦理情形",
                         created_at=timezone.now())
            for r in reviews for _ in (1, 2)
        )  # fmt: skip
        Change.objects.bulk_create(
            Change(item=item, field="state", old="", new="open", at=timezone.now()) for item in new
        )
        for meeting in self.meetings:  # the search index covers the new tables too
            search_index_rebuild(meeting=meeting)

    def _vms(self, start, now):
        from tests.vmquota import factories as vm_factories

        if not self.vms:
            self.version = vm_factories.seed_policy(actor=self.bureau)
            self.rule = self.version.rules.first()
        minute = now.replace(second=0, microsecond=0)
        for i in range(start, self.n):
            vm = vm_factories.vm(f"perf-vm-{i}", self.school, uid=uuid.uuid4())
            self.vms.append(vm)
            Exemption.objects.create(vm=vm, starts_at=now, ends_at=now + timedelta(days=1),
                                     reason="測試", granted_by=self.bureau)  # fmt: skip
            CollectorToken.issue(name=f"collector {i}", created_by=self.bureau)
        first = self.vms[0]
        store([(first.pk, minute - timedelta(minutes=m + 60 * start), 50.0, 300.0)
               for m in range(60 * (self.n - start))])  # fmt: skip
        for i, vm in enumerate(self.vms[start:], start=start):
            for target, offset in ((vm, 0), (first, 30)):
                streak = minute - timedelta(hours=i + 1, minutes=offset)
                incident = Incident.objects.create(
                    vm=target, rule=self.rule, streak_start=streak,
                    fired_at=streak + timedelta(minutes=30), first_value=99, fired_value=99,
                    ended_at=None if offset == 0 else streak + timedelta(minutes=40),
                )  # fmt: skip
                Action.objects.create(vm=target, incident=incident, kind="alert", status="failed")
        policy_version_create(
            actor=self.bureau, effective_from=now + timedelta(days=1 + start),
            announcement="改版", max_gap=timedelta(minutes=5),
            rules=[{"metric": "cpu_percent", "threshold": 95, "duration": timedelta(minutes=30),
                    "action": "alert", "mode": "enforce"}], publish=True,
        )  # fmt: skip


@pytest.fixture
def world(coordinator, convener, bureau, xindian_school):
    w = World(coordinator, convener, bureau, xindian_school)
    w.grow(SMALL)
    return w


def measure(client, url, budget, assert_max, status=(200, 302)):
    """The number of queries of one GET, under the budget (fails the test when over)."""
    client.get(url)  # warm: first visits create feed keys, compile templates
    cache.clear()  # but count the page as built, not as served from cached fragments
    with assert_max(budget, info=url) as counted:
        response = client.get(url)
    assert response.status_code in status, (url, response.status_code)
    print(f"{len(counted.captured_queries):3}/{budget:<3} {url}")  # shown with pytest -s
    return len(counted.captured_queries)


def check(pages, world, client_for, assert_max):
    """Count every page at the small size, grow the data, count again: no page may grow."""
    before = {}
    for name, (user, url, budget, *status) in pages(world).items():
        before[name] = measure(client_for(user), url, budget, assert_max, *status)
    world.grow(GROWTH)
    grown = []
    for name, (user, url, budget, *status) in pages(world).items():
        after = measure(client_for(user), url, budget, assert_max, *status)
        if after > before[name]:
            grown.append(f"{name} ({url}): {before[name]} → {after} queries")
    assert not grown, "query count grows with the data:\n" + "\n".join(grown)


@pytest.fixture
def client_for(client):
    def _for(user):
        client.force_login(user)
        return client

    return _for


# --- the pages, by app --------------------------------------------------------------------------


def portal_pages(w):
    return {
        # + 本週待辦 of surveys (the open ones, the school's answers) and of the VM room (open
        # incidents, paused VMs): four queries, whatever the number of surveys and VMs; one more
        # for the schools a restricted survey asks (no link to a survey it does not ask)
        "home (coordinator, every app's block)": (w.coordinator, "/", 21),
        # + 本週待辦 (next meeting, news, district) and the district's VMs and incidents; the
        # surveys' lines also read the district's schools and their answers
        "home (convener)": (w.convener, "/", 22),
        # + the first-run checklist, one query a step; 本週待辦 of surveys (open ones with their
        # answers, the number of schools) and of the city's open incidents
        "home (bureau)": (w.bureau, "/", 24),
        "people": (w.bureau, reverse("people"), 11),
        "audit log": (w.bureau, reverse("audit_log"), 7),
        "background job": (w.bureau, reverse("job_detail", args=[w.job.pk]), 6),
        "background job status": (w.bureau, reverse("job_status", args=[w.job.pk]), 5),
        # no worker runs in the tests, so health answers 503 (worker) with the same queries
        "health": (w.bureau, reverse("healthz"), 6, (200, 503)),
        "trivial view": (w.bureau, reverse("ping"), 3),
    }


def meetings_pages(w):
    latest = w.meetings[-1]
    key = FeedKey.objects.get(user=w.coordinator).key
    return {
        "minutes list": (w.coordinator, reverse("meetings:list"), 7),
        "subscribe page": (w.coordinator, reverse("meetings:subscribe"), 5),
        "meeting page": (w.coordinator, latest.get_absolute_url(), 13),
        "minutes .txt": (w.coordinator, reverse("meetings:text", args=[latest.pk]), 12),
        "minutes .docx": (w.coordinator, reverse("meetings:docx", args=[latest.pk]), 12),
        "search": (w.coordinator, reverse("meetings:search") + "?q=資安", 6),
        "edit (bureau)": (w.bureau, reverse("meetings:edit", args=[latest.pk]), 17),
        "import form": (w.bureau, reverse("meetings:import"), 5),
        "new meeting form": (w.bureau, reverse("meetings:new"), 5),
        "atom feed": (w.coordinator, reverse("meetings:feed", args=[key]), 7),
        "calendar feed": (w.coordinator, reverse("meetings:calendar", args=[key]), 7),
    }


def tracking_pages(w):
    item = w.items[-1]
    return {
        "tracked-item list": (w.coordinator, reverse("tracking:list"), 11),
        "tracked-item list, all states": (w.coordinator, reverse("tracking:list") + "?state=", 11),
        "tracked item": (w.coordinator, item.get_absolute_url(), 13),
        "meeting tables": (w.bureau, reverse("tracking:meeting", args=[w.meetings[-1].pk]), 9),
        "next meeting form": (w.bureau, reverse("tracking:meeting_new"), 5),
        "xlsx export": (w.bureau, reverse("tracking:export"), 9),
        "updates feed": (w.coordinator, reverse("tracking:feed"), 6),
    }


def signups_pages(w):
    s = w.survey
    return {
        "survey list": (w.coordinator, reverse("signups:list"), 8),
        "survey (coordinator → own school)": (w.coordinator, reverse("signups:survey", args=[s.pk]), 7),
        "survey (convener → schools)": (w.convener, reverse("signups:survey", args=[s.pk]), 7),
        "filing page": (w.coordinator, reverse("signups:file", args=[s.pk, w.school.pk]), 14),
        "grid": (w.bureau, reverse("signups:grid", args=[s.pk]), 8),
        "consolidated rows": (w.bureau, reverse("signups:rows", args=[s.pk]), 7),
        "xlsx export": (w.bureau, reverse("signups:export", args=[s.pk]), 10),
        "xlsx template": (w.coordinator, reverse("signups:template", args=[s.pk, w.school.pk]), 8),
    }  # fmt: skip


def vmquota_pages(w):
    vm = w.vms[0]
    return {
        "index (bureau)": (w.bureau, reverse("vmquota:index"), 7),
        "index (coordinator → school)": (w.coordinator, reverse("vmquota:index"), 6),
        "school": (w.coordinator, reverse("vmquota:school", args=[w.school.code]), 7),
        "VM page (coordinator)": (w.coordinator, reverse("vmquota:vm", args=[vm.pk]), 14),
        "VM page (bureau)": (w.bureau, reverse("vmquota:vm", args=[vm.pk]), 15),
        "board": (w.bureau, reverse("vmquota:board"), 10),
        "policy": (w.coordinator, reverse("vmquota:policy"), 9),
        "new policy form": (w.bureau, reverse("vmquota:policy_new"), 7),
        "what-if form": (w.bureau, reverse("vmquota:whatif"), 7),
        "what-if result": (w.bureau, reverse("vmquota:whatif_result", args=[w.whatif.pk]), 6),
        "exemptions": (w.bureau, reverse("vmquota:exemptions"), 8),
        "tokens": (w.bureau, reverse("vmquota:tokens"), 7),  # + each token's hosts (prefetched)
        "CSV upload form": (w.bureau, reverse("vmquota:upload"), 5),
        "OpenAPI description": (w.bureau, reverse("vmquota:api_openapi"), 2),  # no session read
    }


@pytest.mark.parametrize(
    "pages",
    [portal_pages, meetings_pages, tracking_pages, signups_pages, vmquota_pages],
    ids=["portal", "meetings", "tracking", "signups", "vmquota"],
)
def test_pages_run_a_fixed_number_of_queries(
    pages, world, client_for, django_assert_max_num_queries
):
    check(pages, world, client_for, django_assert_max_num_queries)


def test_the_check_catches_a_page_that_queries_once_per_row(
    world, client_for, django_assert_max_num_queries, monkeypatch
):
    """The harness itself can fail: the audit log made to read each row's actor is caught."""
    from portal import views

    original = views.render

    def render_touching_each_row(request, template, context=None, *args, **kwargs):
        for event in (context or {}).get("page", []):
            _ = event.actor  # one query per row
        return original(request, template, context, *args, **kwargs)

    monkeypatch.setattr(views, "render", render_touching_each_row)

    def audit_only(w):
        return {"audit log": (w.bureau, reverse("audit_log"), 1000)}

    with pytest.raises(AssertionError, match="grows with the data"):
        check(audit_only, world, client_for, django_assert_max_num_queries)
