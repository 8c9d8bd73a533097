"""Writes for tracked items (列管事項). INTERFACE used by meetings/ – the tracking issue fills it in."""


def minutes_import_apply(*, meeting, tracked_items, new_tracked_items, user=None):
    """Called by meetings' importer inside its transaction with the parsed tables:
    tracked_items: [{"case_no", "subject", "previous_status", "current_status", "resolution"}]
    new_tracked_items: [{"case_no", "subject"}]."""
    return None


def meeting_saved(*, meeting, user=None):
    """Called after a meeting is created, imported or its motions change: carry open items over
    into its 上次會議追蹤列管事項 and open items for motions whose 決議 says to track them."""
    return None
