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


def test_a_token_that_floods_the_api_is_slowed_down(world, client):
    raw = issue_through_the_page(client, world)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = json.dumps({"samples": []})
    refused = None
    for _ in range(300):
        response = client.post(API, body, content_type="application/json", **auth)
        if response.status_code == 429:
            refused = response
            break
    assert refused is not None, "300 requests in a few seconds were all answered"
    assert refused.json()["error"], "the refusal says why"
    other = issue_through_the_page(client, world)
    response = client.post(API, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {other}")  # fmt: skip
    assert response.status_code == 200, "the limit is per token"
