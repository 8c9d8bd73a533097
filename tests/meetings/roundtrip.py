"""Minutes against their own text: what the importer reads from the text (the fields
services.meeting_import saves) next to what the database holds."""

from meetings import hooks, importer


def tree(items):
    return [(i.text, tree(i.children)) for i in items]


def db_tree(items, parent=None):
    return [(i.text, db_tree(items, i.pk)) for i in items if i.parent_id == parent]


def as_imported(text):
    """What the importer reads from the text: the fields meeting_import saves."""
    r = importer.parse(text)
    return {
        "header": [
            r.title,
            r.held_on,
            r.start_time,
            r.place,
            r.chair,
            r.recorder,
            r.attendance_note,
            r.chair_remarks,
            r.adjourned_time,
        ],  # fmt: skip
        "reports": [(d.name, tree(d.items)) for d in r.divisions],
        "motions": [
            (m.kind, m.subject, m.explanation, m.resolution, m.proposer) for m in r.motions
        ],  # fmt: skip
        "tracked": [dict(row) for row in r.tracked_items],
        "new_tracked": [dict(row) for row in r.new_tracked_items],
        "warnings": [w.message for w in r.warnings],
    }


def as_stored(meeting):
    items = list(meeting.report_items.select_related("division").order_by("position", "id"))
    divisions = sorted({i.division for i in items}, key=lambda d: d.position)
    tables = hooks.minutes_tables(meeting)
    return {
        "header": [
            meeting.title,
            meeting.held_on,
            meeting.start_time,
            meeting.place or None,
            meeting.chair or None,
            meeting.recorder or None,
            meeting.attendance_note or None,
            meeting.chair_remarks or None,
            meeting.adjourned_time,
        ],  # fmt: skip
        "reports": [
            (d.name, db_tree([i for i in items if i.division_id == d.pk])) for d in divisions
        ],
        "motions": [
            (m.kind, m.subject, m.explanation, m.resolution, m.proposer)
            for m in meeting.motions.order_by("-kind", "position", "id")
        ],  # fmt: skip
        # 「1.」 is how the minutes number a row, not a field: the importer reads the case number
        "tracked": [_without_number(row) for row in tables["previous"]],
        "new_tracked": [_without_number(row) for row in tables["new"]],
        "warnings": [],
    }


def _without_number(row):
    return {k: v for k, v in row.items() if k != "number"}
