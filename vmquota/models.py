"""Models of the vmquota app (see its issue)."""
