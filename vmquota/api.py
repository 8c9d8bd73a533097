"""The collector API: POST /api/vmquota/samples, authenticated by a per-collector token.

CSRF does not apply: the request carries no cookie credentials, only `Authorization: Bearer`.
Both views are `@machine_api`: served ahead of the site's browser middleware (portal/machine_api.py).
"""

import json
import logging
import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from portal.machine_api import machine_api

from .ingest import ingest_for_token, ingest_rows
from .models import CollectorToken, token_digest

log = logging.getLogger("vmquota")
COLLECTOR_LOOKUP_SQL = (
    "SELECT id, name, last_used_at, school_id FROM vmquota_collectortoken "
    "WHERE digest = %s AND revoked_at IS NULL LIMIT 1"
)
MAX_BODY_BYTES = 4 * 1024 * 1024


def _error(status, message, errors=None):
    body = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _content_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _declared_json(request):
    """Whether a body is declared JSON. An empty body declares nothing: it is the 400 of a body
    that is not JSON (the length from the header: reading the body could be refused as too
    large)."""
    return request.content_type == "application/json" or not _content_length(request)


def json_api(*methods):
    """Every answer of the view is JSON, also when the request is wrong: another method is a 405
    naming the allowed ones (and the Allow header), an error of the view itself a 500 with a JSON
    body (logged)."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.method not in methods:
                response = _error(405, f"此網址只接受 {'、'.join(methods)} 請求")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except Exception:  # noqa: BLE001 – answered as JSON; logged with its traceback
                log.exception("vmquota API: %s %s failed", request.method, request.path)
                return _error(500, "伺服器內部錯誤，請稍後重送")

        return checked

    return decorator


# `last_used_at` says when a collector was last heard from, to the minute: writing it on every
# request made each one an UPDATE and a commit of the same row (collectors post every minute or
# more often, several at once with one token)
LAST_USED_RESOLUTION = timedelta(seconds=60)


def record_use(token, now=None):
    """Set the token's `last_used_at` unless it was set less than a minute ago. The row read
    says whether to write at all; the UPDATE's own condition keeps concurrent requests from
    writing it twice. Returns whether this call wrote it."""
    now = now or timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= stale:
        return False
    written = (
        CollectorToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale))
        .update(last_used_at=now)
    )
    return bool(written)


def bearer_digest(request):
    """The digest of the request's `Authorization: Bearer` token, or None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return token_digest(raw.strip())


def authenticate(digest):
    """The live token with this digest (its use recorded), or None."""
    # a ready-made statement: building the ORM query cost more than running it (every request)
    token = next(iter(CollectorToken.objects.raw(COLLECTOR_LOOKUP_SQL, [digest])), None)
    if token is not None:
        record_use(token)
    return token


def _count_in_window(key, timeout):
    """Add one to a counter that expires `timeout` seconds after it was made. On Redis one round
    trip (SET NX EX and INCR pipelined, through Django's own connection pool), where Django's
    add() and incr() take three; other caches (a folder under `make run`) use those."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)
        with client.pipeline(transaction=False) as pipe:
            pipe.set(full_key, 0, ex=timeout, nx=True)
            pipe.incr(full_key)
            return pipe.execute()[1]
    backend.add(key, 0, timeout=timeout)
    return backend.incr(key)


def _within_rate(digest):
    """A fixed one-minute window per token (by its digest, so it can be counted before the token
    is read), in the cache (Redis in production), so one runaway collector cannot starve the
    others."""
    window = int(time.time() // 60)
    key = f"vmquota:token-rate:{digest}:{window}"
    try:
        count = _count_in_window(key, 120)
    except ValueError:  # the key expired between add and incr
        count = 1
    except Exception:  # noqa: BLE001 – no cache (Redis down): store the samples, unlimited
        log.warning("vmquota API: the rate-limit cache is unavailable", exc_info=True)
        return True
    return count <= settings.VMQUOTA_TOKEN_RATE_PER_MINUTE


UNAUTHORIZED = "缺少或無效的收集器權杖（Authorization: Bearer …）"


def _too_often():
    response = _error(
        429,
        f"此權杖送出太頻繁（每分鐘上限 {settings.VMQUOTA_TOKEN_RATE_PER_MINUTE} 次），請稍後再送",
    )
    response["Retry-After"] = "60"
    return response


def _database_away():
    # the database went away mid-request (restart, failover): nothing of the batch was
    # committed; the collector resends it (duplicates are ignored), and Django drops the
    # broken connection at the end of this request, so the next one reconnects
    log.warning("vmquota API: database unavailable", exc_info=True)
    response = _error(503, "資料庫暫時無法使用，整批未儲存，請稍後重送")
    response["Retry-After"] = "30"
    return response


def _answer(result):
    if result.out_of_scope:
        names = "、".join(result.out_of_scope[:20])
        return _error(403, f"此權杖不可送出這些虛擬機的樣本，整批未儲存：{names}",
                      [e.as_dict() for e in result.errors])  # fmt: skip
    if result.errors:
        return _error(400, "有無效的樣本，整批未儲存", [e.as_dict() for e in result.errors])
    return JsonResponse(
        {"received": result.received, "stored": result.stored, "duplicates": result.duplicates}
    )


def _read_batch(request):
    """(the batch's rows, None) when the body is {"samples": [...]} within the count limit, else
    (None, the answer that says what is wrong, given only after the token and the rate)."""
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[…]]]] bombs
        return None, _error(
            400, "內容不是有效的 JSON", [{"index": None, "field": "", "message": "JSON 格式錯誤"}]
        )
    rows = body.get("samples") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        return None, _error(400, "需要 {\"samples\": [...]}",
                            [{"index": None, "field": "samples", "message": "缺少 samples 陣列"}])  # fmt: skip
    limit = settings.VMQUOTA_MAX_SAMPLES_PER_REQUEST
    if len(rows) > limit:
        return None, _error(413, f"一次最多 {limit} 筆樣本（收到 {len(rows)} 筆）")
    return rows, None


@machine_api  # no cookie, session or page: served ahead of the site's middleware
@csrf_exempt  # token authentication only (and the view is reachable without the shortcut too)
@json_api("POST")
def samples(request):
    digest = bearer_digest(request)
    if digest is None:
        return _error(401, UNAUTHORIZED)
    if not _declared_json(request):
        # after the token, as every word about the body is: a stranger learns nothing of it
        if authenticate(digest) is None:
            return _error(401, UNAUTHORIZED)
        return _error(415, "內容類型必須是 application/json（Content-Type: application/json）")
    too_large = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    rows, refusal = (None, None) if too_large else _read_batch(request)
    if rows is not None and connection.vendor == "postgresql":
        # a well-formed batch: the token is read in the round trip that starts the transaction
        if not _within_rate(digest):
            return _too_often()
        try:
            token, result = ingest_for_token(digest, rows)
        except (OperationalError, InterfaceError):
            return _database_away()
        if token is None:
            return _error(401, UNAUTHORIZED)
        record_use(token)
        return _answer(result)
    # otherwise, in order: the token, the body's size, the rate, what is wrong with the body
    token = authenticate(digest)
    if token is None:
        return _error(401, UNAUTHORIZED)
    if too_large:
        return _error(413, f"請求過大（上限 {MAX_BODY_BYTES} 位元組）")
    if not _within_rate(digest):
        return _too_often()
    if refusal is not None:
        return refusal
    try:
        result = ingest_rows(rows, token=token)
    except (OperationalError, InterfaceError):
        return _database_away()
    return _answer(result)


@machine_api
@json_api("GET")
def openapi(request):
    return JsonResponse(OPENAPI, json_dumps_params={"ensure_ascii": False, "indent": 2})


@machine_api
@csrf_exempt
@json_api("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found(request, rest=""):
    """Any other path under /api/vmquota/: a JSON 404, as every answer of the API is JSON."""
    return _error(404, "沒有這個 API 路徑（見 /api/vmquota/openapi.json）")


_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": ["integer", "null"], "description": "0-based row index"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "accepted": {
                        "type": "object",
                        "description": "the range the field accepts",
                        "properties": {"from": {}, "to": {}},
                    },
                },
                "required": ["index", "field", "message"],
            },
        },
    },
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "虛擬機房使用量收集 API",
        "version": "1",
        "description": "Collectors post usage samples of the VMs the bureau hosts. A batch is "
        "stored whole or not at all; a sample with the same VM and ts as a stored one is ignored, "
        "so resending is safe.",
    },
    "paths": {
        "/api/vmquota/samples": {
            "post": {
                "summary": "Store usage samples (up to 10 000 a request)",
                "security": [{"collectorToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["samples"],
                                "properties": {
                                    "samples": {
                                        "type": "array",
                                        "maxItems": 10000,
                                        "items": {
                                            "type": "object",
                                            "required": ["vm", "ts", "cpu_percent", "net_kbps"],
                                            "properties": {
                                                "vm": {"type": "string", "description": "VM name or UUID"},
                                                "ts": {"type": "string", "format": "date-time",
                                                       "description": "ISO 8601 with offset; within the retention "
                                                       "(VMQUOTA_SAMPLE_RETENTION_DAYS, 35 days by default) and "
                                                       "at most 5 minutes in the future"},
                                                "cpu_percent": {"type": "number", "minimum": 0, "maximum": 100,
                                                                "description": "share of all the VM's vCPUs"},
                                                "net_kbps": {"type": "number", "minimum": 0, "maximum": 100000000,
                                                             "description": "received + transmitted KB/s (1 KB = 1024 bytes)"},
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Stored",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "properties": {"received": {"type": "integer"}, "stored": {"type": "integer"},
                                           "duplicates": {"type": "integer"}},
                        }}},
                    },
                    "400": {"description": "Invalid rows; nothing stored",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "401": {"description": "Missing, unknown or revoked token",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "403": {"description": "A sample for a VM outside the token's scope (its hosts or school); the errors name the rows; nothing stored",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "413": {"description": "More than 10 000 samples, or body over 4 MiB",
                            "content": {"application/json": {"schema": _ERROR}}},
                    "415": {"description": "The body is not declared application/json",
                            "content": {"application/json": {"schema": _ERROR}}},
                },
            }
        }
    },
    "components": {
        "securitySchemes": {"collectorToken": {"type": "http", "scheme": "bearer",
                                               "description": "A collector token made by bureau staff at /vmquota/tokens/"}}
    },
}  # fmt: skip
