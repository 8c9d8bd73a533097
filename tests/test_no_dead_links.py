"""Nobody is shown a link they may not follow: for each demo role, every page reachable from the
home page by same-origin links answers neither 403 nor 404."""

import os
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from portal.demo import DEMO_USERS
from tracking.services import meeting_create_next

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
    """{path: status} of every page reachable from `start`, with the page that linked it."""
    seen, found, queue = {start}, {}, [(start, None)]
    while queue and len(found) < MAX_PAGES:
        path, referrer = queue.pop(0)
        response = client.get(path)
        found[path] = (response.status_code, referrer)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in _same_origin_paths(f"http://testserver{path}", response.content.decode()):
            if link.startswith(SKIP_PREFIXES) or link in seen:
                continue
            seen.add(link)
            queue.append((link, path))
    return found


# Links that another branch removes (the VM pages a convener may not open); drop an entry
# once that work is merged.
@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    # the next meeting, still a draft: its links are for bureau staff only
    meeting_create_next(held_on=date(2019, 10, 15))


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_no_demo_role_is_shown_a_link_it_may_not_follow(client, demo, username):
    client.force_login(get_user_model().objects.get(username=username))
    pages = crawl(client)
    dead = {p: s for p, s in pages.items() if s[0] in (403, 404)}
    assert dead == {}, f"{username} 看得到卻打不開的連結：{dead}"
    assert len(pages) > 5
