"""Models of the tracking app (see its issue)."""
