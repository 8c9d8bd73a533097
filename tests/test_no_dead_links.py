"""Nobody is shown a link they may not follow: for each demo role, every page reachable from the
home page by same-origin links (and the redirects they answer with) answers neither 403 nor 404.

The demo is given what a week brings, so every kind of page is on the way: a draft meeting (bureau
only), a coming meeting whose notice is out with a convener's proposal sent and a coordinator's
draft (the author's and the bureau's only), open VM incidents in the convener's district and in
another, a paused VM. Each role must reach the page kinds of its week (`REACHED`), so a page that
stops offering a link shows up here as well as a link that answers 403."""

import os
import re
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from meetings import convening, proposals
from portal.demo import DEMO_USERS
from portal.models import District
from tracking.services import meeting_create_next
from vmquota.models import Incident, VirtualMachine
from vmquota.policy import active_version

# leaving, or files and feeds that are not pages (their links were checked on the way)
SKIP_PREFIXES = ("/accounts/logout", "/static/", "/media/", "/admin/logout")
MAX_PAGES = 250


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _same_origin_paths(base, html):
    parser = _Links()
    parser.feed(html)
    for href in parser.links:
        url = urldefrag(urljoin(base, href))[0]
        parts = urlparse(url)
        if parts.scheme not in ("http", "") or parts.netloc not in ("", "testserver"):
            continue
        yield parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client, start="/"):
    """{path: status} of every page reachable from `start`, with the page that linked it; a
    redirect's target is followed like a link (a 302 to a refusal is a dead link too)."""
    seen, found, queue = {start}, {}, [(start, None)]
    while queue and len(found) < MAX_PAGES:
        path, referrer = queue.pop(0)
        response = client.get(path)
        found[path] = (response.status_code, referrer)
        base = f"http://testserver{path}"
        if response.status_code in (301, 302, 303, 307, 308):
            links = _same_origin_paths(base, f'<a href="{response["Location"]}">')
        elif response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            links = _same_origin_paths(base, response.content.decode())
        else:
            continue
        for link in links:
            if link.startswith(SKIP_PREFIXES) or link in seen:
                continue
            seen.add(link)
            queue.append((link, path))
    return found


# The page kinds each role's week takes it to (a pattern of the path, what it is)
MEETING = r"/meetings/\d+/"
REACHED = {
    "coordinator": {
        r"^/vmquota/vms/\d+/$": "the school's VM",
        r"^/vmquota/incidents/\d+/$": "its incident",
        r"^/signups/\d+/schools/\d+/$": "the school's filing table",
        MEETING + "agenda/$": "the coming meeting's agenda",
        r"^/meetings/proposals/\d+/$": "its own draft proposal",
    },
    "convener": {
        r"^/vmquota/districts/\d+/$": "the district's VM incidents",
        r"^/vmquota/incidents/\d+/$": "an incident in the district",
        r"^/signups/\d+/$": "a survey's district view",
        MEETING + "proposals/$": "the proposals",
        r"^/meetings/proposals/\d+/$": "its proposal",
    },
    "bureau": {
        r"^/vmquota/board/$": "the incidents board",
        r"^/vmquota/incidents/\d+/$": "an incident",
        r"^/signups/\d+/grid/$": "a survey's grid",
        MEETING + "agenda/reports/$": "業務報告",
        r"^/meetings/\d+/edit/$": "a draft meeting",
    },
    "admin": {r"^/audit/$": "the audit log", r"^/vmquota/board/$": "the incidents board"},
}


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    User = get_user_model()
    bureau, convener, coordinator = (
        User.objects.get(username=n) for n in ("bureau", "convener", "coordinator")
    )
    # the next meeting, still a draft: its links are for bureau staff only
    meeting_create_next(held_on=date(2019, 10, 15))
    # a coming meeting, its notice out: the convener sent a proposal, a coordinator has a draft
    held_on = timezone.localdate() + timedelta(days=30)
    coming = convening.meeting_plan(
        user=bureau, title="下次聯席會議", held_on=held_on, start_time=time(10, 0), place="網管會議室",
        proposals_due=timezone.make_aware(datetime.combine(held_on - timedelta(days=7), time(17))),
    )  # fmt: skip
    convening.notice_publish(meeting=coming, user=bureau)
    wenshan = District.objects.get(name="文山分區")
    sent = proposals.proposal_create(
        meeting=coming, user=convener, district=wenshan, subject="統一採購無線網路設備",
        explanation="各校設備老舊。",
    )  # fmt: skip
    proposals.proposal_move(proposal=sent, user=convener, to="submitted")
    proposals.proposal_create(
        meeting=coming, user=coordinator, district=wenshan, subject="更新電腦教室",
        explanation="草稿。",
    )  # fmt: skip
    # the VM room's week: an incident at 新店國小 (文山), one at 江翠國中 (板橋), a paused VM
    rule = active_version().rules.first()
    fired = timezone.now() - timedelta(minutes=10)
    for name in ("test", "jtjhs-nas"):
        Incident.objects.create(
            vm=VirtualMachine.objects.get(name=name), rule=rule, fired_at=fired,
            streak_start=fired - timedelta(minutes=30), first_value=99, fired_value=99,
        )  # fmt: skip
    VirtualMachine.objects.filter(name="psps-moodle").update(state="paused")


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_no_demo_role_is_shown_a_link_it_may_not_follow(client, demo, username):
    client.force_login(get_user_model().objects.get(username=username))
    pages = crawl(client)
    dead = {p: s for p, s in pages.items() if s[0] in (403, 404)}
    assert dead == {}, f"{username} 看得到卻打不開的連結：{dead}"
    assert len(pages) > 5
    ok = [p for p, (status, _) in pages.items() if status == 200]
    missing = [what for pattern, what in REACHED[username].items()
               if not any(re.search(pattern, p) for p in ok)]  # fmt: skip
    assert missing == [], f"{username} 到不了：{missing}"
