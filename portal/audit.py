"""The audit log: one call, `record()`, for every event worth keeping (logins, refusals, imports,
exports, publishing, status changes, suspensions). Secrets are masked before anything is stored."""

from django.conf import settings

from .models import AuditEvent

_SECRET_WORDS = ("password", "token", "secret", "authorization")


def client_ip(request):
    """The client's address: REMOTE_ADDR, or the one proxy header the deployment configures.
    X-Forwarded-For is never trusted unless it is that header."""
    header = getattr(settings, "PORTAL_CLIENT_IP_HEADER", "")
    raw = request.META.get(header, "") if header else ""
    if raw:
        # the right-most entry is the one our own proxy appended
        return raw.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _mask(value):
    if isinstance(value, dict):
        return {
            k: ("***" if any(w in k.lower() for w in _SECRET_WORDS) else _mask(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def record(action, *, request=None, actor=None, target="", **detail):
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=str(actor.get_username()) if actor is not None else "",
        action=action,
        target=str(target)[:200],
        ip=client_ip(request) if request is not None else None,
        detail=_mask(detail),
    )
