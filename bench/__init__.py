"""Benchmarks: run on demand (`make bench`), print figures, assert nothing about time."""

import os
from contextlib import contextmanager
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU seconds (user + system) a process of this machine has used so far, from /proc; None
    for one that has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S  # utime, stime (fields 14 and 15)


@contextmanager
def throwaway_database(*, postgresql_only=False):
    """A test database beside DATABASE_URL's (test_<name>), migrated for one benchmark and dropped
    after it, as the test runner makes one. Django must be set up."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if postgresql_only and connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL=postgres://…")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
