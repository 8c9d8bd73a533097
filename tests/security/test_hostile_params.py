"""Hostile input across every route never answers 500.

Every URL pattern of the portal (the resolver walk of tests/security/matrix.py), as each role,
with its path parameters filled from the world (tests/security/world.py) and then with hostile
values (NUL bytes, years past 9999, integers past 2**31 and 2**63, negatives, text, very long and
odd Unicode), and with hostile query strings in every parameter name a view reads. Then every
POST form a role is shown, sent back with hostile values in each of its fields.

Bad input gets a form error (a 200 or 400 page that says why), a 404 or a 400 page, all in
Chinese; never a 500. On PostgreSQL a NUL byte that reached a query would be a 500 ("A string
literal cannot contain NUL"); the whole module runs in CI on PostgreSQL, and
`test_nul_bytes_never_reach_postgresql` makes sure that run cannot skip.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from .matrix import ARGS, LITERALS, MATRIX, fresh_heartbeat, namespace_of, portal_urls

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "coordinator", "convener", "bureau"]

NUL = "\x00"
# What a clumsy user or an attacker types into a URL: ROC year 8089 is year 10000 (no date has
# it), 2**31 and 2**63 overflow PostgreSQL's integer and bigint, 10**20 overflows everything.
HOSTILE = [
    "8089", "-1", str(2**31), str(2**63), str(10**20), "9" * 5000, "abc", "1e309", NUL,
    f"資安{NUL}", "x" * 3000, "😀\u202e\ufffd", "%00", "' OR 1=1 --",
]  # fmt: skip
# Sent one parameter at a time as well, to the pages a role may open: a bad value must not hide
# behind another parameter that the view refuses first.
ONE_AT_A_TIME = ["8089", str(10**20)]

# Every query-string name a view reads (grep request.GET and the FilterSets' fields), and the
# usual suspects of a list page.
QUERY_NAMES = [
    "year", "month", "page", "q", "sort", "copy", "school", "district", "state", "division",
    "stale", "extra", "action", "since", "until", "target", "actor", "next", "key", "o",
]  # fmt: skip

# Third-party URL arguments that no world object names (allauth's keys, the OIDC provider).
THIRD_PARTY_ARGS = {"key": "bogus-key", "uidb36": "1z", "provider_id": "edu-cloud"}

# The admin is Django's, behind is_staff: its front page, login and one list are walked.
ADMIN_WALKED = {"admin:index", "admin:login", "admin:portal_user_changelist"}

# Put into each field of a form in turn: past PostgreSQL's integer, past every integer, longer
# than any column; a NUL byte once per form (it is refused before any field is read).
FIELD_VALUES = [str(2**31), str(10**20), "-1", "x" * 3000]

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATER_ROW = re.compile(r"-[1-9][0-9]*-")


@dataclass(frozen=True)
class Route:
    name: str
    kwargs: tuple

    @property
    def methods(self):
        row = next((r for r in MATRIX if r.name == self.name), None)
        return set(row.methods) if row else {"GET", "POST"}


def routes():
    found = {}
    for url in portal_urls():
        if not url.name or (url.name.startswith("admin:") and url.name not in ADMIN_WALKED):
            continue
        found.setdefault(url.name, Route(url.name, url.kwargs))
    return list(found.values())


def real_kwargs(route, world):
    """The URL's arguments naming objects of the world (the first row of MATRIX for it)."""
    row = next((r for r in MATRIX if r.name == route.name), None)
    table = {**ARGS.get(namespace_of(route.name), {}), **(row.args if row else {})}
    kwargs = {}
    for name in route.kwargs or _reverse_kwargs(route.name):
        source = table.get(name)
        if source is None:
            kwargs[name] = THIRD_PARTY_ARGS[name]
        elif source in LITERALS:
            kwargs[name] = source
        else:
            value = getattr(world, source)
            kwargs[name] = str(getattr(value, "pk", value))
    return kwargs


def _reverse_kwargs(name):
    """Arguments of enclosing regex prefixes the walk does not list (allauth's OIDC provider)."""
    try:
        reverse(name)
        return ()
    except NoReverseMatch:
        return tuple(k for k in THIRD_PARTY_ARGS if k == "provider_id")


# Placeholders every converter accepts (digits pass <int:>, <str:> and allauth's keys; the
# tracked-item case number has its own shape); each is replaced in the reversed path.
_PLACEHOLDERS = ["7770{}1", "777-77-Z7{}1"]


def path_with(route, values):
    """The route's path with `values` (already chosen, possibly hostile) in its arguments, built
    by reversing with placeholders and then substituting the quoted values: reverse() alone would
    refuse a value its converter does not accept, and the point is to send it anyway."""
    names = list(values)
    for shape in _PLACEHOLDERS:
        holders = {n: shape.format(i) for i, n in enumerate(names)}
        try:
            path = reverse(route.name, kwargs=holders)
        except NoReverseMatch:
            continue
        for name, holder in holders.items():
            path = path.replace(holder, quote(str(values[name]), safe=""), 1)
        return path
    raise AssertionError(f"{route.name}: no placeholder reverses it with {names}")


@dataclass
class Probe:
    role: str
    method: str
    path: str
    data: dict | None = None
    param: str = ""  # the hostile parameter (query name, form field or path argument)

    def __str__(self):
        data = f" {_short(self.data)}" if self.data else ""
        return f"{self.method} {_short(self.path)}{data} as {self.role}"


def _short(value, limit=140):
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "…"


def login(client, world, role):
    client.logout()
    if role != "anonymous":
        client.force_login(world.people[role])


def send(client, probe):
    """One request in its own savepoint (rolled back: a probe changes nothing for the next one,
    and on PostgreSQL a failed statement does not poison the test's transaction). Returns the
    response, or the exception a view raised (the test client re-raises it)."""
    sid = transaction.savepoint()
    try:
        if probe.method == "GET":
            return client.get(probe.path)
        return client.post(probe.path, probe.data or {})
    except Exception as exc:  # noqa: BLE001 – a crash is what is being looked for
        return exc
    finally:
        transaction.savepoint_rollback(sid)


def problem(probe, response):
    """Why this answer breaks the promise, or None."""
    if isinstance(response, Exception):
        return f"{probe}: raised {type(response).__name__}: {_short(str(response), 200)}"
    status = response.status_code
    if status >= 500:
        return f"{probe}: HTTP {status}"
    if status in (400, 403, 404, 405) and response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode("utf-8", "replace")
        if not _CJK.search(body) or "Bad Request" in body:
            return f"{probe}: HTTP {status} without a Chinese page: {_short(body, 120)!r}"
    return None


def get_probes(route, world, role, opened):
    """`opened`: the route's page answered this role 200 (so its view reads the query)."""
    real = real_kwargs(route, world)
    base = path_with(route, real)
    for value in HOSTILE:
        yield Probe(
            role, "GET", f"{base}?{urlencode(dict.fromkeys(QUERY_NAMES, value))}", param="*"
        )
        for name in real:
            yield Probe(role, "GET", path_with(route, {**real, name: value}), param=name)
    if opened:
        for value in ONE_AT_A_TIME:
            for name in QUERY_NAMES:
                yield Probe(role, "GET", f"{base}?{urlencode({name: value})}", param=name)


class _Forms(HTMLParser):
    """The fields of every POST form on a page: {action: {name: a value shown}}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "fields": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea"):
            name = attrs.get("name")
            if name and attrs.get("type") not in ("file", "submit", "hidden"):
                self._current["fields"][name] = attrs.get("value") or ""
            elif (
                name and attrs.get("type") in ("hidden", "submit") and name != "csrfmiddlewaretoken"
            ):
                self._current["fields"].setdefault(name, attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def post_probes(page_path, html, role):
    """Each POST form of the page, sent back with one hostile value in one field at a time."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        action = form["action"] or page_path
        if not action.startswith("/") or action.startswith("/accounts/logout"):
            continue
        fields = form["fields"]
        if fields:
            first = next(iter(fields))
            yield Probe(role, "POST", action, data={**fields, first: f"資安{NUL}"}, param=first)
        for field in fields:
            if _LATER_ROW.search(field):
                continue  # a formset's rows are alike: its first row stands for the others
            for value in FIELD_VALUES:
                yield Probe(role, "POST", action, data={**fields, field: value}, param=field)


def route_ids(methods=("GET", "POST")):
    return [pytest.param(r, id=r.name) for r in routes() if set(methods) & set(r.methods)]


@pytest.mark.parametrize("route", route_ids())
def test_no_hostile_get_answers_500(world, client, route):
    fresh_heartbeat(world)  # /healthz answers 503 without a worker; that is not the point here
    failures = []
    for role in ROLES:
        login(client, world, role)
        baseline = Probe(role, "GET", path_with(route, real_kwargs(route, world)))
        response = send(client, baseline)
        found = problem(baseline, response)
        if found:
            failures.append(found)
        opened = not isinstance(response, Exception) and response.status_code == 200
        for probe in get_probes(route, world, role, opened):
            found = problem(probe, send(client, probe))
            if found:
                failures.append(found)
    assert failures == [], f"{len(failures)} answers break the promise:\n" + "\n".join(failures)


@pytest.mark.parametrize("route", route_ids(methods=("GET",)))  # a page to read forms from
def test_no_hostile_form_value_answers_500(world, client, route):
    """The POST forms each role is shown on this route's page, with hostile values."""
    failures = []
    for role in ROLES:
        login(client, world, role)
        page_path = path_with(route, real_kwargs(route, world))
        page = send(client, Probe(role, "GET", page_path))
        if isinstance(page, Exception) or page.status_code != 200:
            continue
        if not page.get("Content-Type", "").startswith("text/html"):
            continue
        for probe in post_probes(page_path, page.content.decode(), role):
            found = problem(probe, send(client, probe))
            if found:
                failures.append(found)
    assert failures == [], f"{len(failures)} answers break the promise:\n" + "\n".join(failures)


# --- the refusals themselves: what the person reads -----------------------------------------------


def chinese_page(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert _CJK.search(body) and "Bad Request" not in body
    return body


def test_a_year_no_date_can_have_is_refused_naming_the_field(world, client):
    """/meetings/?year=8089 (the year 10000) answered 500."""
    client.force_login(world.people["coordinator"])
    body = chinese_page(client.get(reverse("meetings:list") + "?year=8089"), 400)
    assert "年度" in body and "8088" in body
    assert client.get(reverse("meetings:list") + "?year=107").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/meetings/search/?q=資安%00", "/tracking/?q=%00", "/vmquota/schools/014632%00/",
     "/meetings/feed/key%00.atom", "/invite/abc%00/", "/tracking/108-09-01%00/"],
)  # fmt: skip
def test_a_nul_byte_in_the_url_is_refused_before_any_query(world, client, path):
    client.force_login(world.people["coordinator"])
    assert "控制字元（NUL）" in chinese_page(client.get(path), 400)


def test_a_nul_byte_in_a_cookie_is_refused(world, client):
    """The session cookie is looked up in the database; a quoted cookie can carry "\\000"."""
    response = client.get(reverse("meetings:search"), HTTP_COOKIE='sessionid="\\000abcdefgh"')
    assert "NUL" in chinese_page(response, 400)


def test_nul_bytes_never_reach_postgresql(postgres, world, client):
    """On PostgreSQL a NUL that reached a query was a 500; this test runs there (CI) or fails."""
    client.force_login(world.people["bureau"])
    for path in ["/meetings/search/?q=資安%00", "/vmquota/schools/%00/", "/meetings/feed/%00.atom",
                 "/tracking/?q=%00&division=%00", "/audit/?actor=%00"]:  # fmt: skip
        chinese_page(client.get(path), 400)
    response = client.post(reverse("tracking:subscribe", args=[world.open_case_no]),
                           {"action": f"x{NUL}"})  # fmt: skip
    chinese_page(response, 400)


def test_a_nul_byte_in_pasted_minutes_is_named(world, client):
    """The paste said "請貼上會議紀錄全文" instead of naming the problem."""
    from .world import seed_text

    client.force_login(world.people["bureau"])
    text = seed_text(month=12)
    text = f"{text[:200]}{NUL}{text[200:]}"
    body = chinese_page(client.post(reverse("meetings:import"), {"text": text}), 400)
    assert "控制字元（NUL）" in body and "請貼上會議紀錄全文" not in body


def test_the_import_form_itself_names_a_nul_byte():
    """The form says the same where the middleware is not in front of it."""
    from meetings.forms import ImportForm
    from portal.badinput import NUL_MESSAGE

    form = ImportForm({"text": f"一、主席致詞{NUL}"})
    assert not form.is_valid()
    assert form.errors == {"text": [NUL_MESSAGE]}


def test_a_paste_over_the_request_limit_gets_a_page_naming_the_limit(world, client):
    """5 MB of urlencoded Chinese (45 MB on the wire) got Django's bare English
    400 (RequestDataTooBig)."""
    from urllib.parse import urlencode

    from django.conf import settings

    client.force_login(world.people["bureau"])
    body = urlencode({"text": "會議紀錄" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 9)})
    response = client.post(reverse("meetings:import"), body,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    page = chinese_page(response, 400)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024 // 1024
    assert "太大" in page and f"{limit} MB" in page


def test_a_long_months_minutes_fit_under_the_limits(world, client):
    """The limits leave room: minutes ten times the seed month's length, sent as the browser
    sends the form (multipart), reach the import's own checks (a preview job is started)."""
    from .world import seed_text

    client.force_login(world.people["bureau"])
    text = seed_text(month=12) + "\n" + "（補充說明）資訊組長聯席會議。\n" * 8000
    assert len(text.encode()) > 10 * len(seed_text().encode())
    response = client.post(reverse("meetings:import"), {"text": text})  # multipart by default
    assert response.status_code == 302, response.content[:300]


def test_a_paste_longer_than_any_minutes_is_a_form_error(world, client):
    from meetings import importer

    client.force_login(world.people["bureau"])
    text = "會" * (importer.MAX_BYTES // 3 + 1)
    body = client.post(reverse("meetings:import"), {"text": text}).content.decode()
    assert "貼上的內容太長" in body


def test_error_pages_are_chinese(world, client):
    """400, 403, 404, 405 and the CSRF refusal are the portal's own Chinese pages."""
    from django.test import Client

    client.force_login(world.people["coordinator"])
    chinese_page(client.get("/meetings/999999999/"), 404)
    chinese_page(client.get(reverse("people")), 403)
    chinese_page(client.get(reverse("meetings:publish", args=[world.published.pk])), 405)
    chinese_page(client.get("/meetings/?year=abc"), 400)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.people["coordinator"])
    body = chinese_page(strict.post(reverse("tracking:subscribe", args=[world.open_case_no])), 403)
    assert "表單已過期" in body


def test_the_500_page_is_chinese_and_stands_alone():
    """It is rendered when anything may be broken: no base template, no database."""
    from django.template.loader import get_template

    html = get_template("500.html").render({})
    assert "系統發生錯誤" in html and "extends" not in html
