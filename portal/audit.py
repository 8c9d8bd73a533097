"""The audit log: one call, `record()`, for every event worth keeping (logins, refusals, imports,
exports, publishing, status changes, suspensions). Secrets are masked before anything is stored."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.utils import timezone

from . import rocdate
from .models import AuditEvent, Membership, Role

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


# --- reading: the log in its readers' words ------------------------------------------------
# Codes stay in the table (they are what a filter or a script matches); the page shows Chinese.
# Each app describes its own codes in ready(), so the portal needs no app to read the log.

_ACTIONS = {}  # "login.success" → "登入成功"
_DETAIL_LABELS = {}  # "decision" → "決議"
_DETAIL_VALUES = {}  # "decision" → {"merge": "併案", …}


def describe(*, actions=None, details=None, values=None):
    """Name an app's audit codes in Chinese: `actions` code → phrase, `details` key → label,
    `values` key → {stored value → phrase} (a decision code, a VM state, a status)."""
    _ACTIONS.update(actions or {})
    _DETAIL_LABELS.update(details or {})
    for key, words in (values or {}).items():
        _DETAIL_VALUES.setdefault(key, {}).update(words)


def action_label(code):
    """The action in Chinese; a code nobody described shows as itself rather than not at all."""
    return _ACTIONS.get(code, code)


def action_choices():
    """(code, phrase) of every described action, in the order of the phrases, for the filter."""
    return sorted(_ACTIONS.items(), key=lambda pair: pair[1])


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _value_text(key, value):
    words = _DETAIL_VALUES.get(key, {})
    if isinstance(value, list | tuple):
        return "、".join(_value_text(key, v) for v in value) or "無"
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return "、".join(f"{k} {_value_text(key, v)}" for k, v in value.items())
    text = str(value)
    if text in words:
        return words[text]
    if _ISO_DATE.match(text):
        return rocdate.format_short(date.fromisoformat(text))
    if _ISO_DATETIME.match(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return rocdate.format_short_datetime(moment)
    return text


def detail_phrases(detail):
    """The detail as 「標籤：值」 phrases, in the order it was recorded."""
    return [
        f"{_DETAIL_LABELS.get(key, key)}：{_value_text(key, value)}"
        for key, value in (detail or {}).items()
    ]


def person_label(user):
    """「王小明（新店國小）」: the name a reader knows, and where the person works (from the
    memberships prefetched with the user)."""
    places = []
    for m in user.memberships.all():
        if m.school_id:
            places.append(m.school.name)
        elif m.district_id:
            places.append(f"{m.district.name}分區代表")
        elif m.role == Role.BUREAU:
            places.append(f"教育局{m.division.name}" if m.division_id else "教育局")
        elif m.role == Role.ADMIN:
            places.append("系統管理員")
    where = "、".join(dict.fromkeys(places))
    return f"{user.display_name}（{where}）" if where else user.display_name


@dataclass
class Entry:
    """One event as the audit log page shows it."""

    at: datetime
    who: str
    action: str
    action_label: str
    target: str
    ip: str
    details: list


def entries(events):
    """The page's events in Chinese: people by name and place, not by username. Two queries
    whatever the page's size: the actors and the people named as targets (a login's username),
    then their memberships."""
    User = get_user_model()
    events = list(events)
    memberships = Prefetch(
        "memberships", queryset=Membership.objects.select_related("school", "district", "division")
    )
    actor_ids = {e.actor_id for e in events if e.actor_id}
    targets = {e.target for e in events if e.target}
    found = User.objects.filter(Q(pk__in=actor_ids) | Q(username__in=targets))
    found = list(found.prefetch_related(memberships))
    people = {u.pk: u for u in found}
    by_username = {u.username: u for u in found}
    rows = []
    for e in events:
        actor = people.get(e.actor_id)
        if actor is not None:
            who = person_label(actor)
        elif e.actor_label:
            who = f"{e.actor_label}（帳號已刪除）"
        else:
            who = "（未登入）"
        named = by_username.get(e.target)
        rows.append(
            Entry(
                at=e.at,
                who=who,
                action=e.action,
                action_label=action_label(e.action),
                target=person_label(named) if named is not None else e.target,
                ip=e.ip or "—",
                details=detail_phrases(e.detail),
            )
        )
    return rows
