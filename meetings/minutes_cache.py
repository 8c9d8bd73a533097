"""The rendered minutes, cached (issue #8: rendering was most of a meeting page's time).

Published minutes almost never change, and the rendered `<article>` is the same for every
reader, so it is kept in Django's cache (Redis in production, files under var/ for `make run`)
under a key made of two generation counters:

- the meeting's own, moved by `minutes_changed(meeting)`: every service that changes a meeting
  rebuilds its search index (meetings/services.py `search_index_rebuild`), which calls it, and
  saving or deleting a meeting, item, motion, attachment or correction moves it too;
- one for all minutes, moved when something shown in many meetings' minutes changes: a tracked
  item or a review (the 列管事項 tables), a school or district (出席學校), a survey (attachment
  links).

Counters are moved at once (the writer's own later reads, in the same transaction, are fresh)
and again after the transaction commits (a reader that rendered the old rows in between stored
them under the key that the second move retires); a counter missing from the cache (evicted) is started afresh from the clock, so an
entry rendered before the eviction is never found again.
"""

import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

KEEP_S = 7 * 24 * 60 * 60
ALL = "meetings:minutes:generation"


def _own(meeting_id):
    return f"meetings:minutes:{meeting_id}:generation"


def minutes_changed(meeting=None, *, meeting_id=None):
    """Forget the cached minutes of one meeting, or of every meeting when none is given."""
    key = _own(meeting_id or meeting.pk) if (meeting or meeting_id) else ALL
    cache.set(key, time.time_ns(), None)
    transaction.on_commit(lambda: cache.set(key, time.time_ns(), None))


def _generations(meeting_id):
    keys = [ALL, _own(meeting_id)]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, time.time_ns(), None)
            found[key] = cache.get(key)
    return found[ALL], found[_own(meeting_id)]


def rendered_minutes(meeting):
    """The minutes' HTML (templates/meetings/_minutes.html), rendered once per change."""
    every, own = _generations(meeting.pk)
    key = f"meetings:minutes:{meeting.pk}:{every}:{own}:{meeting.updated_at.timestamp()}"
    html = cache.get(key)
    if html is None:
        from . import selectors

        context = {"meeting": meeting, "doc": selectors.meeting_document(meeting)}
        html = render_to_string("meetings/_minutes.html", context)
        cache.set(key, html, KEEP_S)
    return mark_safe(html)  # noqa: S308 – rendered by the template engine, escaped there


# --- what moves the counters ---------------------------------------------------------------------


def _meeting_part_changed(sender, instance, **kwargs):
    meeting_id = instance.pk if sender.__name__ == "Meeting" else instance.meeting_id
    if meeting_id:
        minutes_changed(meeting_id=meeting_id)


def _shared_part_changed(sender, instance, **kwargs):
    minutes_changed()


def connect():
    from django.apps import apps

    for name in ("Meeting", "ReportItem", "Motion", "Attachment", "Correction"):
        model = apps.get_model("meetings", name)
        post_save.connect(_meeting_part_changed, sender=model, dispatch_uid=f"minutes-{name}")
        post_delete.connect(_meeting_part_changed, sender=model, dispatch_uid=f"minutes-{name}-d")
    attendees = apps.get_model("meetings", "Meeting").attendees.through
    m2m_changed.connect(_shared_part_changed, sender=attendees, dispatch_uid="minutes-attendees")
    for label in ("tracking.TrackedItem", "tracking.Review", "portal.School",
                  "portal.District", "signups.Survey"):  # fmt: skip
        model = apps.get_model(label)
        post_save.connect(_shared_part_changed, sender=model, dispatch_uid=f"minutes-{label}")
        post_delete.connect(_shared_part_changed, sender=model, dispatch_uid=f"minutes-{label}-d")
