"""Issue 7, 6.: collector tokens – only in a header (see test_bad_input), at least 128 bits, stored
as a digest, never written to the audit log, revocable, and rate-limited per token."""

import json
import re

import pytest
from django.urls import reverse

from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

API = "/api/vmquota/samples"


def issue_through_the_page(client, world):
    client.force_login(world.people["bureau"])
    response = client.post(reverse("vmquota:tokens"), {"name": "新店國小收集器"})
    assert response.status_code == 200
    raw = re.search(r"vmq_[A-Za-z0-9_-]+", response.content.decode()).group()
    return raw


def test_a_new_token_is_shown_once_and_stored_only_as_a_digest(world, client):
    from vmquota.models import CollectorToken, token_digest

    raw = issue_through_the_page(client, world)
    row = CollectorToken.objects.get(digest=token_digest(raw))
    stored = json.dumps(
        [str(v) for v in CollectorToken.objects.filter(pk=row.pk).values().first().values()]
    )
    assert raw not in stored and raw[10:] not in stored
    assert raw not in client.get(reverse("vmquota:tokens")).content.decode(), "shown only once"
    logged = json.dumps(
        list(AuditEvent.objects.values_list("target", "detail")), ensure_ascii=False
    )
    assert raw not in logged and raw[10:] not in logged


def test_a_token_has_at_least_128_bits(world, client):
    raw = issue_through_the_page(client, world)
    secret = raw.removeprefix("vmq_")
    assert len(secret) * 6 >= 128  # base64url: 6 bits a character


def test_a_revoked_token_stops_working_at_once(world, client):
    from vmquota.models import CollectorToken, token_digest

    raw = issue_through_the_page(client, world)
    body = json.dumps({"samples": []})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.post(API, body, content_type="application/json", **auth).status_code == 200
    row = CollectorToken.objects.get(digest=token_digest(raw))
    client.post(reverse("vmquota:tokens"), {"revoke": row.pk})
    assert client.post(API, body, content_type="application/json", **auth).status_code == 401


@pytest.mark.xfail(
    strict=True,
    reason="issue 7, 6. asks for a rate limit per token; vmquota/api.py has none: 300 requests "
    "in a few seconds from one token are all answered 200",
)
def test_a_token_that_floods_the_api_is_slowed_down(world, client):
    raw = issue_through_the_page(client, world)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = json.dumps({"samples": []})
    statuses = [client.post(API, body, content_type="application/json", **auth).status_code
                for _ in range(300)]  # fmt: skip
    assert 429 in statuses
