"""The persistent PostgreSQL connection (CONN_MAX_AGE) is checked before a request reuses it
(CONN_HEALTH_CHECKS), so a restarted server costs nobody an error page."""

import psycopg2
import pytest
from django.db import connection

from tests.conftest import missing_service, wait_for


@pytest.fixture
def pg(transactional_db):  # transactional: a connection may only be replaced outside atomic blocks
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL (set DATABASE_URL=postgres://…)")
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    # Start on a connection of our own: one this worker opened more than CONN_MAX_AGE ago is
    # rightly closed at the next request, which is not what these tests are about.
    connection.close()
    return connection


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request():
    """What Django does between two requests (request_started/finished)."""
    connection.close_if_unusable_or_obsolete()


def test_a_healthy_connection_is_reused(pg):
    pid = backend_pid()
    next_request()
    assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(pg):
    pid = backend_pid()
    next_request()
    other = psycopg2.connect(**connection.get_connection_params())
    # Autocommit: inside one transaction pg_stat_activity is a snapshot and never changes.
    other.autocommit = True
    try:
        with other.cursor() as c:
            c.execute("SELECT pg_terminate_backend(%s)", [pid])

            def gone():
                c.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                return c.fetchone()[0] == 0

            wait_for(gone, timeout=30, message="the server ends the connection")
    finally:
        other.close()
    assert backend_pid() != pid  # no "server closed the connection unexpectedly"
