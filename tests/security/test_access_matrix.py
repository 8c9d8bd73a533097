"""Every URL of the portal, as every role, by GET and POST, against one table.

The table is tests/security/matrix.py (MATRIX, THIRD_PARTY); the URLs come from the resolver, so
a new page fails `test_every_url_has_an_entry` until someone decides who may use it.
"""

import pytest

from portal.models import AuditEvent

from .matrix import (
    MATRIX,
    METHODS,
    POLICY_NAMES,
    THIRD_PARTY,
    UNNAMED_OK_PREFIXES,
    all_rows,
    not_accepted,
    outcome_of,
    path_for,
    portal_urls,
    third_party_reason,
)
from .world import ROLES

pytestmark = pytest.mark.django_db


def _cases():
    for row in all_rows():
        for method in METHODS:
            for role in ROLES:
                marks = []
                reason = row.bugs.get((role, method))
                if reason:
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                yield pytest.param(row, role, method, id=f"{row.id}-{method}-{role}", marks=marks)


def _expected(row, role, method):
    policy = row.methods.get(method)
    if policy is None:
        return not_accepted(role), "method not accepted"
    return {policy[role]}, POLICY_NAMES.get(id(policy), "custom")


@pytest.mark.parametrize(("row", "role", "method"), list(_cases()))
def test_access(world, client, row, role, method):
    path = path_for(row, world)
    if row.prepare:
        row.prepare(world)
    user = world.people.get(role)
    if user is not None:
        client.force_login(user)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = client.generic(method, path) if method != "POST" else client.post(path, {})

    got = outcome_of(response, method)
    expected, policy = _expected(row, role, method)
    assert got in expected, (
        f"{method} {path} as {role}: got {got} (HTTP {response.status_code}"
        f"{' → ' + response.headers.get('Location', '') if response.has_header('Location') else ''}"
        f"), expected {' or '.join(sorted(expected))} ({policy})"
    )
    if got == "deny":
        refusals = AuditEvent.objects.filter(id__gt=last, action="access.refused")
        event = refusals.filter(target=path, actor=user).first()
        assert event is not None, (
            f"{method} {path} as {role} was refused but no access.refused event was written"
        )
        reason = event.detail.get("reason", "")
        assert reason and reason in response.content.decode(), (
            f"{method} {path} as {role}: the 403 page does not say why ({reason!r})"
        )


def test_every_url_has_an_entry():
    urls = portal_urls()
    rows = {row.name for row in all_rows()}
    missing = [
        f"{u.name} ({u.route}, {u.module})"
        for u in urls
        if u.name and u.name not in rows and third_party_reason(u.name) is None
    ]
    assert missing == [], "URLs without a row in tests/security/matrix.py: " + ", ".join(missing)


def test_third_party_exemptions_stay_under_admin_and_accounts():
    urls = portal_urls()
    exempt = [u for u in urls if u.name and third_party_reason(u.name) is not None]
    assert exempt, "the admin and allauth URLs are found"
    outside = [f"{u.name} ({u.route})" for u in exempt
               if not u.route.startswith(("admin/", "accounts/"))]  # fmt: skip
    assert outside == [], "THIRD_PARTY may only excuse admin/ and accounts/ URLs"
    unnamed = [u.route for u in urls if not u.name and not u.route.startswith(UNNAMED_OK_PREFIXES)]
    assert unnamed == [], "every URL of the portal's own apps must have a name to be in the table"
    unused = [p for p in THIRD_PARTY
              if not any(u.name and third_party_reason(u.name) == THIRD_PARTY[p] for u in urls)]  # fmt: skip
    assert unused == [], "stale THIRD_PARTY entries"


def test_the_table_names_real_urls_and_the_required_third_party_pages():
    names = {u.name for u in portal_urls()}
    stale = [row.id for row in MATRIX if row.name not in names]
    assert stale == []
    ids = [row.id for row in all_rows()]
    assert len(ids) == len(set(ids)), "each row has its own id"
    required = {"admin:index", "account_login", "account_signup", "account_reset_password",
                "account_logout"}  # fmt: skip
    assert required <= {row.name for row in MATRIX}


def test_the_walk_finds_nested_namespaced_urls():
    """The walk goes into included URLconfs and keeps their namespaces (it can fail: a flat walk
    would only see the includes)."""
    names = {u.name for u in portal_urls()}
    assert {"meetings:detail", "signups:file", "vmquota:api_samples", "admin:index"} <= names
    assert "tracking:item" in names and "account_login" in names


# --- CSRF: every URL that takes a POST refuses one without the token ------------------------------

CSRF_EXEMPT = {
    "vmquota:api_samples": "token in the Authorization header, no cookie is consulted",
    "vmquota:api_not_found": "answers a JSON 404 to every request; reads and writes nothing",
}


def _post_rows():
    for row in all_rows():
        if "POST" in row.methods and not row.name.startswith("admin:"):
            yield pytest.param(row, id=row.id)


@pytest.mark.parametrize("row", list(_post_rows()))
def test_every_post_without_a_csrf_token_is_refused(world, row):
    from django.test import Client

    policy = row.methods["POST"]
    role = next((r for r in ROLES if policy[r] == "ok"), None)
    client = Client(enforce_csrf_checks=True)
    if role not in (None, "anonymous"):
        client.force_login(world.people[role])
    client.get("/")  # a session, as a browser would have
    response = client.post(path_for(row, world), {})
    if row.name in CSRF_EXEMPT:
        assert response.status_code != 403 or b"CSRF" not in response.content
        return
    assert response.status_code == 403, f"POST {row.id} as {role}: HTTP {response.status_code}"


def test_the_csrf_check_can_pass(world):
    """The same request with the token is not refused (so the 403s above are CSRF's)."""
    from django.test import Client
    from django.urls import reverse

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["coordinator"])
    client.get(reverse("tracking:item", args=[world.open_case_no]))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("tracking:subscribe", args=[world.open_case_no]),
                           {"csrfmiddlewaretoken": token})  # fmt: skip
    assert response.status_code == 302
