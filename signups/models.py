"""Models of the signups app (see its issue)."""
