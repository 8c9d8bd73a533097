"""POST /api/vmquota/samples: token auth, whole-batch validation, duplicates ignored."""

import importlib.util
import json
import logging
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from vmquota.models import CollectorToken, UsageSample

pytestmark = pytest.mark.django_db
URL = "/api/vmquota/samples"


def post(client, body, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def row(minutes_ago=1, **kw):
    ts = (timezone.now() - timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat()
    return {"vm": "xd-web", "ts": ts, "cpu_percent": 12.5, "net_kbps": 300, **kw}


def test_stores_a_batch_and_ignores_a_resent_duplicate(client, token, web):
    rows = [row(3), row(2), row(1)]
    assert post(client, {"samples": rows}, token).json() == {
        "received": 3,
        "stored": 3,
        "duplicates": 0,
    }
    assert post(client, {"samples": rows}, token).json() == {
        "received": 3,
        "stored": 0,
        "duplicates": 3,
    }
    assert UsageSample.objects.count() == 3
    assert CollectorToken.objects.get().last_used_at is not None


def test_the_vm_may_be_named_by_uuid(client, token, web):
    assert post(client, {"samples": [row(vm=str(web.uuid).upper())]}, token).status_code == 200


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"cpu_percent": 100.1}, "cpu_percent"),
        ({"cpu_percent": -1}, "cpu_percent"),
        ({"cpu_percent": "50"}, "cpu_percent"),
        ({"net_kbps": -0.5}, "net_kbps"),
        ({"net_kbps": "fast"}, "net_kbps"),
        ({"ts": "2019-09-10T10:00:00"}, "ts"),
        ({"ts": "6 minutes from now"}, "ts"),  # computed when the test runs, not when collected
        ({"ts": "36 days ago"}, "ts"),  # older than the retention (35 days)
        ({"ts": "0001-01-01T00:00:00+08:00"}, "ts"),  # PostgreSQL stored it as 1 BC
        ({"ts": "9999-12-31T23:59:59-23:59"}, "ts"),
        ({"ts": 1568080800}, "ts"),
        ({"net_kbps": 1e300}, "net_kbps"),
        ({"vm": "xd-web\x00"}, "vm"),  # PostgreSQL refuses NUL in a parameter
        ({"vm": "xd\tweb"}, "vm"),
        ({"vm": "\ud800"}, "vm"),  # a lone surrogate: JSON allows it, UTF-8 cannot carry it
        ({"vm": "no-such-vm"}, "vm"),
    ],
)
def test_any_invalid_row_refuses_the_whole_batch(client, token, web, bad, field):
    relative = {"6 minutes from now": timedelta(minutes=6), "36 days ago": timedelta(days=-36)}
    if bad.get("ts") in relative:
        bad = {"ts": (timezone.now() + relative[bad["ts"]]).isoformat()}
    response = post(client, {"samples": [row(2), row(1, **bad)]}, token)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, field)]
    assert errors[0]["message"]
    assert not UsageSample.objects.exists()


def test_a_sample_outside_the_retention_window_is_refused_naming_row_field_and_range(
    client, token, web, settings
):
    settings.VMQUOTA_SAMPLE_RETENTION_DAYS = 7
    now = timezone.localtime()
    response = post(client, {"samples": [row(2), row(8 * 24 * 60)]}, token)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["index"], error["field"]) == (1, "ts")
    earliest = datetime.fromisoformat(error["accepted"]["from"])
    latest = datetime.fromisoformat(error["accepted"]["to"])
    assert abs(earliest - (now - timedelta(days=7))) < timedelta(minutes=1)
    assert abs(latest - (now + timedelta(minutes=5))) < timedelta(minutes=1)
    assert error["accepted"]["from"] in error["message"] and "7 天" in error["message"]
    assert not UsageSample.objects.exists()
    assert post(client, {"samples": [row(6 * 24 * 60)]}, token).status_code == 200


@pytest.mark.parametrize(
    "method, path, allowed",
    [("get", URL, "POST"), ("put", URL, "POST"), ("delete", URL, "POST"),
     ("post", "/api/vmquota/openapi.json", "GET")],
)  # fmt: skip
def test_a_wrong_method_is_a_json_405_naming_the_allowed_one(client, token, method, path, allowed):
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allowed
    assert allowed in response.json()["error"]


def test_every_answer_under_the_api_is_json_even_for_an_unknown_path(client):
    response = client.get("/api/vmquota/no-such-thing")
    assert response.status_code == 404
    assert "openapi.json" in response.json()["error"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_not_declared_json_is_a_415(client, token, web, content_type):
    response = client.post(URL, json.dumps({"samples": [row()]}), content_type=content_type,
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert not UsageSample.objects.exists()
    declared = client.post(URL, json.dumps({"samples": [row()]}),
                           content_type="application/json; charset=utf-8",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert declared.status_code == 200


def test_missing_wrong_or_revoked_token_is_401(client, token, web):
    assert post(client, {"samples": [row()]}).status_code == 401
    assert post(client, {"samples": [row()]}, "vmq_wrong").status_code == 401
    CollectorToken.objects.update(revoked_at=timezone.now())
    assert post(client, {"samples": [row()]}, token).status_code == 401
    assert not UsageSample.objects.exists()


def test_over_the_limit_is_413(client, token, web, settings):
    settings.VMQUOTA_MAX_SAMPLES_PER_REQUEST = 3
    assert post(client, {"samples": [row(i) for i in range(1, 5)]}, token).status_code == 413
    assert not UsageSample.objects.exists()


def test_not_json_is_400(client, token, web):
    response = client.post(URL, "{", content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code == 400


def test_token_is_stored_hashed_and_is_long(token):
    row = CollectorToken.objects.get()
    assert token not in (row.digest, row.prefix) and len(token) >= 40


def test_openapi_description_is_served(client):
    doc = client.get("/api/vmquota/openapi.json").json()
    assert "/api/vmquota/samples" in doc["paths"]


@pytest.mark.parametrize("size", [10, 1000])
def test_query_count_does_not_grow_with_the_batch(
    client, token, web, size, django_assert_max_num_queries
):
    base = timezone.now().replace(second=0, microsecond=0) - timedelta(days=1)
    rows = [{"vm": "xd-web", "ts": (base + timedelta(minutes=i)).isoformat(), "cpu_percent": 1,
             "net_kbps": 1} for i in range(size)]  # fmt: skip
    with django_assert_max_num_queries(13):  # SQLite: the token's scope is one query of its own
        assert post(client, {"samples": rows}, token).status_code == 200


# nothing listens on port 1: every call to this cache fails at once
DEAD_REDIS = "redis://127.0.0.1:1/0"


DEAD_CACHES = [
    pytest.param(
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS},
        id="django-redis-cache-raises",
    ),
    pytest.param(
        {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": DEAD_REDIS,
         "OPTIONS": {"IGNORE_EXCEPTIONS": True}},
        id="django-redis-ignore-exceptions",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("django_redis") is None, reason="django-redis not installed"
        ),
    ),
]  # fmt: skip


@pytest.mark.parametrize("dead_cache", DEAD_CACHES)
def test_with_the_cache_down_samples_are_stored_without_the_limit_and_it_is_logged(
    client, token, web, settings, caplog, dead_cache
):
    settings.CACHES = {"default": dead_cache}
    settings.VMQUOTA_TOKEN_RATE_PER_MINUTE = 1  # with a cache, the second request were a 429
    caplog.set_level(logging.WARNING, logger="vmquota")
    for minute in (3, 2, 1):
        response = post(client, {"samples": [row(minute)]}, token)
        assert response.status_code == 200, response.content
    assert UsageSample.objects.count() == 3
    assert "the rate-limit cache is unavailable" in caplog.text


def test_a_token_over_its_rate_is_a_429_and_other_tokens_are_not(client, token, web, settings):
    settings.VMQUOTA_TOKEN_RATE_PER_MINUTE = 2
    assert [post(client, {"samples": [row(m)]}, token).status_code for m in (3, 2)] == [200, 200]
    refused = post(client, {"samples": [row(1)]}, token)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60" and "每分鐘上限 2 次" in refused.json()["error"]
    assert UsageSample.objects.count() == 2
    other = CollectorToken.issue(name="另一台收集器", hypervisors=[web.hypervisor])[1]
    assert post(client, {"samples": [row(1)]}, other).status_code == 200


@pytest.mark.redis
def test_on_redis_a_tokens_rate_is_one_counter_that_expires_by_itself(
    client, token, web, settings, redis_url
):
    import redis

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    settings.VMQUOTA_TOKEN_RATE_PER_MINUTE = 2
    statuses = [post(client, {"samples": [row(m)]}, token).status_code for m in (3, 2, 1)]
    if statuses != [200, 200, 429]:  # the minute turned between two requests: a new window
        statuses = [post(client, {"samples": [row(m)]}, token).status_code for m in (6, 5, 4)]
    assert statuses == [200, 200, 429]
    server = redis.Redis.from_url(redis_url)
    (key,) = server.keys("*vmquota:token-rate:*")
    assert int(server.get(key)) == 3 and 0 < server.ttl(key) <= 120


def test_without_a_live_token_a_batch_is_never_checked_or_stored(client, token, web):
    """Someone without a live token learns nothing about the batch (no 400 naming an unknown
    VM) and stores nothing."""
    batch = {"samples": [row(2), row(1, vm="no-such-vm")]}
    assert post(client, batch, "vmq_wrong").status_code == 401
    CollectorToken.objects.update(revoked_at=timezone.now())
    assert post(client, batch, token).status_code == 401
    assert post(client, {"samples": [row(1)]}, token).status_code == 401
    assert not UsageSample.objects.exists()


def test_a_token_request_goes_through_the_sites_middleware_and_gets_json_no_cookie(
    client, token, web
):
    """The API is a plain view: the site's headers apply (nosniff, CSP, framing), the answer is
    never cached, and sessions, language and login do not touch a collector's request – no
    cookie set, no redirect to a login page, the message in Chinese whatever it asks for."""
    response = client.post(
        URL, json.dumps({"samples": [row(ts="not a time")]}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["field"] == "ts"
    assert "時間" in response.json()["errors"][0]["message"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    for path in ("/api/vmquota/openapi.json", "/api/vmquota/no-such-thing"):
        answer = client.get(path)
        assert answer["Content-Type"] == "application/json" and not answer.cookies
        assert "no-store" in answer["Cache-Control"]


def test_a_browser_session_is_no_credential_and_a_token_needs_no_csrf_token(
    client, token, web, bureau
):
    """Bureau staff logged in: their session cookie does not post samples, and their token does
    without a CSRF token (the check that guards the site's forms is for cookie credentials)."""
    client.force_login(bureau)
    client.handler.enforce_csrf_checks = True
    body = json.dumps({"samples": [row(1)]})
    assert client.post(URL, body, content_type="application/json").status_code == 401
    response = client.post(URL, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code == 200, response.content
    assert UsageSample.objects.count() == 1
