"""Every page of the portal, as every role, at 375 px and 1280 px: axe-core
finds no serious or critical WCAG 2.1 A/AA violation, no page is wider than the screen (reflow,
which axe-core does not check), and a screenshot of each page at each width
is written to var/screenshots/a11y-<role>-<page>-<width>.png.

The pages are the access matrix's (tests/security/matrix.py): every row with a GET the role may
use that answers 200 HTML (checked in-process first, so downloads and feeds are left out). One
browser context per role, logged in once and reused for all its pages.

Left out on purpose: the Django admin's model pages (third-party markup; admin:index is audited)
and the collector API (JSON).
"""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tests.security.matrix import MATRIX, kwargs_for, portal_urls
from tests.security.world import PASSWORD, ROLES, build_world

pytestmark = pytest.mark.browser

WIDTHS = [375, 1280]

# The system admin's pages are the bureau's (same templates, same `is_staff` branch); it is
# audited on the pages only it may open, plus the home page, to keep the run under 4 minutes.
SAME_PAGES_AS = {"sysadmin": "bureau"}

# Violations found in app pages and reported to their owners, by (matrix row name, rule id): the
# audit fails on anything else, and also when one of these is no longer found (remove it then),
# like an xfail(strict=True) per page.
KNOWN = {
    # (row name, rule id): reason. Found and fixed so far: meetings:detail and signups:grid
    # (scrollable-region-focusable at 375 px), vmquota:whatif_result (meta-refresh).
}


def html_pages(world, role):
    """(name, path) of every matrix page `role` may GET that answers 200 HTML, without repeats
    (a redirect to a page already listed is dropped)."""
    from django.urls import resolve, reverse

    url_kwargs = {u.name: u.kwargs for u in portal_urls()}
    client = Client(raise_request_exception=False)  # a crashing page is the matrix's finding
    if role != "anonymous":
        client.force_login(world.people[role])
    pages, seen = [], set()
    like = SAME_PAGES_AS.get(role)
    for row in MATRIX:
        policy = row.methods.get("GET")
        if policy is None or policy[role] != "ok" or row.name.startswith("vmquota:api_"):
            continue
        if like and policy[like] == "ok" and row.name != "home":
            continue
        path = reverse(row.name, kwargs=kwargs_for(row, world, url_kwargs[row.name]))
        response = client.get(path, follow=True)
        final = response.request["PATH_INFO"]
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        if final in seen or final.startswith("/accounts/logout"):
            continue
        seen.add(final)
        resolved = resolve(final).view_name  # a redirect lands on another row's page
        label = row.id if resolved == row.name else resolved
        pages.append((resolved, re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_"), final))
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_no_serious_accessibility_violation(
    transactional_db, page, screenshot, role, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)  # the world attaches files to the minutes
    world = build_world()
    pages = html_pages(world, role)
    assert len(pages) >= (2 if role in SAME_PAGES_AS else 5), f"only {pages} found for {role}"
    if role != "anonymous":
        browser_login(page, world.people[role].username, PASSWORD)
        page.wait_for_url(lambda url: "/accounts/login" not in url)
    problems, known_seen = {}, set()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for row_name, name, path in pages:
            response = page.goto(path)
            assert response.status == 200, f"{path} as {role}: HTTP {response.status}"
            screenshot(page, f"a11y-{role}-{name}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:  # WCAG 1.4.10 (reflow): axe-core does not check it
                problems.setdefault(f"{path} ({row_name}) @{width}px", []).append(
                    f"reflow: the page is {wide} px wide and scrolls sideways"
                )
            for violation in serious_violations(page):
                rule = violation.split(" ", 1)[0]
                if (row_name, rule) in KNOWN:
                    known_seen.add((row_name, rule))
                else:
                    problems.setdefault(f"{path} ({row_name}) @{width}px", []).append(violation)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    visited = {row_name for row_name, _, _ in pages}
    fixed = [key for key in KNOWN if key[0] in visited and key not in known_seen]
    assert fixed == [], f"no longer found (remove from KNOWN): {fixed}"


class _Fields(HTMLParser):
    """Collects ids with their text, and the invalid fields with what describes them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text_by_id, self.invalid, self._open = {}, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("aria-invalid") == "true":
            self.invalid.append(
                (attrs.get("name") or attrs.get("id"), attrs.get("aria-describedby"))
            )
        if attrs.get("id"):
            self.text_by_id[attrs["id"]] = ""
            self._open.append((tag, attrs["id"]))

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        for _, ident in self._open:
            self.text_by_id[ident] += data


def form_rows(world):
    """Rows whose GET page holds a form that posts back to it, for the role that may use them."""
    for row in MATRIX:
        get, post = row.methods.get("GET"), row.methods.get("POST")
        if not (get and post) or row.name.startswith(("account_", "admin:", "vmquota:api")):
            continue
        role = "coordinator" if post["coordinator"] == "ok" else "bureau"
        if post[role] == "ok" and get[role] == "ok":
            yield row, role


def test_form_errors_are_tied_to_their_fields(db, settings, tmp_path):
    """Every form posted back empty: each field marked aria-invalid names, with aria-describedby,
    an element that holds its message (WCAG 3.3.1, 1.3.1)."""
    settings.MEDIA_ROOT = str(tmp_path)
    world = build_world()
    url_kwargs = {u.name: u.kwargs for u in portal_urls()}
    checked, problems = 0, {}
    for row, role in form_rows(world):
        client = Client()
        client.force_login(world.people[role])
        from django.urls import reverse

        path = reverse(row.name, kwargs=kwargs_for(row, world, url_kwargs[row.name]))
        response = client.post(path, {"action": "save"})
        if response.status_code not in (200, 400) or "text/html" not in response["Content-Type"]:
            continue
        parser = _Fields()
        parser.feed(response.content.decode())
        for name, described in parser.invalid:
            checked += 1
            texts = [parser.text_by_id.get(i, "").strip() for i in (described or "").split()]
            if not any(texts):
                problems.setdefault(row.id, []).append(f"{name} → {described!r}")
    assert checked >= 3, f"some forms showed errors ({checked})"
    assert problems == {}


def test_the_field_check_finds_an_untied_error():
    parser = _Fields()
    parser.feed('<input name="a" aria-invalid="true" aria-describedby="a-err"><p id="a-err"></p>'
                '<input name="b" aria-invalid="true"><p id="b-err">必填</p>')  # fmt: skip
    texts = {
        name: [parser.text_by_id.get(i, "") for i in (d or "").split()]
        for name, d in parser.invalid
    }
    assert texts == {"a": [""], "b": []}


def test_a_pending_what_if_result_offers_the_result_without_reloading_itself(
    transactional_db, page
):
    """The what-if page polls instead of a timed <meta refresh>: when the run finishes, a link to
    the result appears in the status line (announced, not forced on the reader)."""
    from tests import factories
    from vmquota.models import WhatIfRun

    bureau = factories.bureau_staff(username="whatif-clerk")
    run = WhatIfRun.objects.create(created_by=bureau, params={"rules": []})
    browser_login(page, bureau.username)
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    page.goto(f"/vmquota/whatif/{run.pk}/")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    WhatIfRun.objects.filter(pk=run.pk).update(status="done", result={"rows": [], "totals": {}})
    link = page.get_by_role("link", name="顯示試算結果")
    link.wait_for(timeout=10_000)
    link.focus()
    page.keyboard.press("Enter")
    page.get_by_text("合計").wait_for()
