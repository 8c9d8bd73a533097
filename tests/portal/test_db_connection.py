"""The persistent PostgreSQL connection's per-request health check (portal/postgresql/base.py)."""

import psycopg2
import pytest
from django.db import connection

from tests.conftest import missing_service, wait_for


@pytest.fixture
def pg(transactional_db):  # transactional: a connection may only be replaced outside atomic blocks
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL (set DATABASE_URL=postgres://…)")
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    return connection


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request():
    """What Django does between two requests (request_started/finished)."""
    connection.close_if_unusable_or_obsolete()


def test_a_healthy_connection_is_reused_without_a_round_trip(pg, monkeypatch):
    pid = backend_pid()
    next_request()
    monkeypatch.setattr(connection, "is_usable", lambda: pytest.fail("SELECT 1 was sent"))
    assert backend_pid() == pid
    assert connection.health_check_done


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(pg):
    pid = backend_pid()
    next_request()
    with psycopg2.connect(**connection.get_connection_params()) as other, other.cursor() as c:
        c.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not connection.idle_connection_is_open(), timeout=5,
             message="the server's goodbye on the socket")  # fmt: skip
    assert backend_pid() != pid  # no "server closed the connection unexpectedly"


def test_after_an_error_django_still_asks_the_server(pg, monkeypatch):
    backend_pid()
    connection.errors_occurred = True
    asked = []
    monkeypatch.setattr(connection, "is_usable", lambda: asked.append(1) or True)
    next_request()
    assert asked == [1]


def test_the_session_statement_is_prepared_once_per_connection(pg, client, coordinator):
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(coordinator)

    def request():
        with CaptureQueriesContext(connection) as queries:
            # a page built for the reader (not a shared one from the cache): its context names them
            assert client.get(reverse("meetings:subscribe")).context["user"] == coordinator
        return [q["sql"].split("(")[0] for q in queries if "portal_session_with_user" in q["sql"]]

    connection.close()
    assert request() == ["PREPARE portal_session_with_user", "EXECUTE portal_session_with_user"]
    assert request() == ["EXECUTE portal_session_with_user"]
    pid = backend_pid()
    with psycopg2.connect(**connection.get_connection_params()) as other, other.cursor() as c:
        c.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not connection.idle_connection_is_open(), timeout=5,
             message="the server's goodbye on the socket")  # fmt: skip
    next_request()
    # a new connection has no prepared statements: prepared again, not "does not exist"
    assert request() == ["PREPARE portal_session_with_user", "EXECUTE portal_session_with_user"]
