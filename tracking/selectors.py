"""Reads for tracked items. INTERFACE used by meetings/ – the tracking issue fills it in."""


def minutes_tables(meeting):
    """The two tables of a meeting's minutes, in the official layout:
    {"previous": [{"case_no", "subject", "previous_status", "current_status", "resolution"}],
     "new": [{"case_no", "subject"}]}."""
    return {"previous": [], "new": []}
