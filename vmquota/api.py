"""The collector API: POST /api/vmquota/samples with a collector's token, and its OpenAPI
description. Plain views that go through the site's whole middleware stack, like every page; the
decorators say what a machine's request needs instead: every answer JSON (`json_api`), the
collector's token as its credential (`token_required`) and so no CSRF check (no cookie is one),
never cached."""

import json
import logging
import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from .ingest import ingest_rows
from .models import CollectorToken, token_digest

log = logging.getLogger("vmquota")
MAX_BODY_BYTES = 4 * 1024 * 1024
UNAUTHORIZED = "缺少或無效的收集器權杖（Authorization: Bearer …）"


def _error(status, message, errors=None):
    body = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _database_away():
    # the database went away mid-request (restart, failover): nothing of the batch was
    # committed; the collector resends it (duplicates are ignored), and Django drops the
    # broken connection at the end of this request, so the next one reconnects
    log.warning("vmquota API: database unavailable", exc_info=True)
    response = _error(503, "資料庫暫時無法使用，整批未儲存，請稍後重送")
    response["Retry-After"] = "30"
    return response


def json_api(*methods):
    """Every answer of the view is JSON, also when the request is wrong: another method is a 405
    naming the allowed ones (and the Allow header), the database away a 503, any other error of
    the view a 500 (logged with its traceback)."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.method not in methods:
                response = _error(405, f"此網址只接受 {'、'.join(methods)} 請求")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except (OperationalError, InterfaceError):
                return _database_away()
            except Exception:  # noqa: BLE001 – answered as JSON; logged with its traceback
                log.exception("vmquota API: %s %s failed", request.method, request.path)
                return _error(500, "伺服器內部錯誤，請稍後重送")

        return checked

    return decorator


# `last_used_at` says when a collector was last heard from, to the minute: written on every
# request it would make each one an UPDATE of the same row (collectors post every minute or more
# often, several at once with one token)
LAST_USED_RESOLUTION = timedelta(seconds=60)


def record_use(token, now=None):
    """Set the token's `last_used_at` unless it was set less than a minute ago; the UPDATE's own
    condition keeps concurrent requests from writing it twice. Returns whether this call wrote
    it."""
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


def token_required(view):
    """The view runs only for a live collector token (`request.collector_token`, its use
    recorded); anything else is a 401 that says nothing about the request's body."""

    @wraps(view)
    def authorized(request, *args, **kwargs):
        digest = bearer_digest(request)
        token = (
            CollectorToken.objects.filter(digest=digest, revoked_at__isnull=True).first()
            if digest is not None
            else None
        )
        if token is None:
            return _error(401, UNAUTHORIZED)
        record_use(token)
        request.collector_token = token
        return view(request, *args, **kwargs)

    return authorized


def within_rate(token):
    """Whether the token has posted at most VMQUOTA_TOKEN_RATE_PER_MINUTE times in this minute,
    so that one runaway collector cannot starve the others: a counter per token and minute in
    the cache (Redis in production). Without a cache the request is served, unlimited, and the
    warning logged: a collector's samples matter more than the limit."""
    key = f"vmquota:token-rate:{token.pk}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: the first of a new window
        count = 1
    except Exception:  # noqa: BLE001 – whatever the cache's error is
        log.warning("vmquota API: the rate-limit cache is unavailable", exc_info=True)
        return True
    if count is None:  # a cache that swallows its errors (django-redis' IGNORE_EXCEPTIONS)
        log.warning("vmquota API: the rate-limit cache is unavailable")
        return True
    return count <= settings.VMQUOTA_TOKEN_RATE_PER_MINUTE


def _too_often():
    response = _error(
        429,
        f"此權杖送出太頻繁（每分鐘上限 {settings.VMQUOTA_TOKEN_RATE_PER_MINUTE} 次），請稍後再送",
    )
    response["Retry-After"] = "60"
    return response


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


def _read_batch(request):
    """(the batch's rows, None) when the body is {"samples": [...]} within the count limit, else
    (None, the answer that says what is wrong)."""
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


@csrf_exempt
@never_cache
@json_api("POST")
@token_required
def samples(request):
    # in this order, each after the token: a stranger learns nothing about the body
    if not _declared_json(request):
        return _error(415, "內容類型必須是 application/json（Content-Type: application/json）")
    if _content_length(request) > MAX_BODY_BYTES:
        return _error(413, f"請求過大（上限 {MAX_BODY_BYTES} 位元組）")
    if not within_rate(request.collector_token):
        return _too_often()
    rows, refusal = _read_batch(request)
    if refusal is not None:
        return refusal
    return _answer(ingest_rows(rows, token=request.collector_token))


@never_cache
@json_api("GET")
def openapi(request):
    return JsonResponse(OPENAPI, json_dumps_params={"ensure_ascii": False, "indent": 2})


@csrf_exempt
@never_cache
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
