"""The rendered minutes, cached (rendering was most of a meeting page's time).

Published minutes almost never change, and the rendered `<article>` (with the record of
corrections under it) is the same for every reader, so it is a cached fragment (portal/fragments.py) depending on two counters:

- the meeting's own (`meeting_counter`), moved by `minutes_changed(meeting)`: every service that
  changes a meeting rebuilds its search index (meetings/services.py `search_index_rebuild`),
  which calls it, and saving or deleting a meeting, item, motion, attachment or correction
  through the ORM moves it too;
- one for all minutes (`SHARED`), moved when something shown in many meetings' minutes changes:
  a school or district (出席學校), a meeting's attending schools, and what the apps on top
  register through `hooks.register_minutes_models` (tracking/: tracked items and reviews, the
  列管事項 tables; signups/: surveys, linked from the minutes).
"""

from django.template.loader import render_to_string

from portal import fragments

KEEP_S = 6 * 60 * 60  # long: published minutes rarely change; bounded: see portal/fragments.py
SHARED = "meetings:minutes"


def meeting_counter(meeting_id):
    return f"meetings:minutes:{meeting_id}"


def minutes_changed(meeting=None, *, meeting_id=None):
    """Forget the cached minutes of one meeting, or of every meeting when none is given."""
    meeting_id = meeting_id or (meeting.pk if meeting else None)
    fragments.changed(meeting_counter(meeting_id) if meeting_id else SHARED)


def rendered_minutes(meeting):
    """The minutes' HTML with the record of corrections (templates/meetings/_detail_body.html),
    rendered once per change."""

    def render():
        from . import selectors

        context = {
            "meeting": meeting,
            "doc": selectors.meeting_document(meeting),
            "corrections": list(meeting.corrections.select_related("corrected_by")),
        }
        return render_to_string("meetings/_detail_body.html", context)

    return fragments.fragment(
        ("minutes", meeting.pk, meeting.updated_at.isoformat()),
        (SHARED, meeting_counter(meeting.pk)),
        render,
        timeout=KEEP_S,
    )


# --- what moves the counters ----------------------------------------------------------------------


def _meeting_part_changed(sender, instance, **kwargs):
    meeting_id = instance.pk if sender.__name__ == "Meeting" else instance.meeting_id
    if meeting_id:
        minutes_changed(meeting_id=meeting_id)


def connect():
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for name in ("Meeting", "ReportItem", "Motion", "Attachment", "Correction"):
        model = apps.get_model("meetings", name)
        post_save.connect(_meeting_part_changed, sender=model, dispatch_uid=f"minutes-{name}")
        post_delete.connect(_meeting_part_changed, sender=model, dispatch_uid=f"minutes-{name}-d")
    m2m_changed.connect(
        lambda **kwargs: minutes_changed(),
        sender=apps.get_model("meetings", "Meeting").attendees.through,
        weak=False,
        dispatch_uid="minutes-attendees",
    )
    # the apps on top add theirs through hooks.register_minutes_models
    fragments.changed_on_save(
        SHARED, apps.get_model("portal", "School"), apps.get_model("portal", "District")
    )
