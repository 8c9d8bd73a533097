"""The login backends, with the lookup every logged-in request makes done in one query.

Django calls the session's backend's `get_user()` on every request, and the portal then needs the
person's roles (portal/access.py). Django's own `get_user()` builds an ORM query each time, and the
roles were a second one: 0.23 + 0.25 ms of Python on this machine, the larger part of a logged-in
request that shows a cached page. Here the user and their Membership rows come back together from
one ready-made statement (0.10 ms) – and on a request, already with the session's row
(portal/sessions.py), so `get_user()` only checks that it is the person the session names.
Authentication itself (passwords, allauth's login by username or e-mail, axes' lockout before
them) is untouched.
"""

from datetime import UTC, datetime
from functools import cache

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.utils import timezone

from .access import roles_from_memberships
from .models import Membership
from .sessions import NOT_READ, user_read_with_current_session

ROLE_COLUMNS = ("role", "school_id", "district_id", "division_id")
ROLE_ALIASES = tuple(f"portal_membership_{c}" for c in ROLE_COLUMNS)
SESSION_DATA = "portal_session_data"
SESSION_EXPIRES = "portal_session_expire_date"


def _select_user_and_roles(quote_name):
    User = get_user_model()
    columns = ", ".join(f"u.{quote_name(f.column)}" for f in User._meta.concrete_fields)
    roles = ", ".join(
        f"m.{quote_name(c)} AS {quote_name(a)}"
        for c, a in zip(ROLE_COLUMNS, ROLE_ALIASES, strict=True)
    )
    joined = (
        f"LEFT JOIN {quote_name(Membership._meta.db_table)} m "
        f"ON m.{quote_name(Membership._meta.get_field('user').column)} = "
        f"u.{quote_name(User._meta.pk.column)}"
    )
    return f"{columns}, {roles}", joined


@cache
def _user_with_roles_sql(alias):
    """The statement for one database alias (names quoted its way), built once per process.
    Keyed on the alias, not on its connection: a threaded server makes a connection per thread."""
    from django.db import connections

    quote_name = connections[alias].ops.quote_name
    User = get_user_model()
    selected, joined = _select_user_and_roles(quote_name)
    return (
        f"SELECT {selected} FROM {quote_name(User._meta.db_table)} u {joined} "  # noqa: S608 – names from the models
        f"WHERE u.{quote_name(User._meta.pk.column)} = %s"
    )


@cache
def _session_with_user_sql(alias):
    """A live session with the person it names and their roles (portal/sessions.py)."""
    from django.db import connections

    from .models import UserSession

    quote_name = connections[alias].ops.quote_name
    User = get_user_model()
    selected, joined = _select_user_and_roles(quote_name)
    return (
        f"SELECT {selected}, s.{quote_name('session_data')} AS {quote_name(SESSION_DATA)}, "  # noqa: S608 – names from the models
        f"s.{quote_name('expire_date')} AS {quote_name(SESSION_EXPIRES)} "
        f"FROM {quote_name(UserSession._meta.db_table)} s "
        f"LEFT JOIN {quote_name(User._meta.db_table)} u "
        f"ON u.{quote_name(User._meta.pk.column)} = "
        f"s.{quote_name(UserSession._meta.get_field('user').column)} {joined} "
        f"WHERE s.{quote_name('session_key')} = %s AND s.{quote_name('expire_date')} > %s"
    )


def _user_from_rows(rows):
    """The user of the rows (one per Membership, or one with none) with `_portal_roles` set."""
    user = rows[0]
    memberships = [
        tuple(getattr(r, a) for a in ROLE_ALIASES) for r in rows if r.portal_membership_role
    ]
    for alias_name in (*ROLE_ALIASES, SESSION_DATA, SESSION_EXPIRES):  # not fields: no trace
        user.__dict__.pop(alias_name, None)
    user._portal_roles = roles_from_memberships(user, memberships)
    return user


def user_with_roles(user_id):
    """The user with `_portal_roles` already set, or None."""
    from django.db import router

    User = get_user_model()
    alias = router.db_for_read(User)
    rows = list(User._default_manager.db_manager(alias).raw(_user_with_roles_sql(alias), [user_id]))
    return _user_from_rows(rows) if rows else None


def session_with_user(alias, session_key, now):
    """(session_data, expire_date, the person it names with roles set, or None), or None when
    no live session has this key: one statement."""
    from django.db import connections

    User = get_user_model()
    connection = connections[alias]
    sql = _session_with_user_sql(alias)
    if hasattr(connection, "prepared"):  # portal/postgresql: planned once per connection
        sql = connection.prepared("portal_session_with_user", sql, ("text", "timestamptz"))
    rows = list(
        User._default_manager.db_manager(alias).raw(
            sql,
            # adapted as the ORM adapts it (SQLite compares text in UTC without an offset)
            [session_key, connection.ops.adapt_datetimefield_value(now)],
        )
    )
    if not rows:
        return None
    first = rows[0]
    session_data, expires = first.portal_session_data, first.portal_session_expire_date
    if isinstance(expires, str):  # SQLite: text in UTC, without an offset
        expires = datetime.fromisoformat(expires)
    if timezone.is_naive(expires):
        expires = timezone.make_aware(expires, UTC)
    return session_data, expires, (_user_from_rows(rows) if first.pk is not None else None)


class UserWithRolesMixin:
    def get_user(self, user_id):
        try:
            user_id = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:  # a malformed id in a session: nobody
            return None
        user = user_read_with_current_session(user_id)
        if user is NOT_READ:
            user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(UserWithRolesMixin, ModelBackend):
    """Django's username-and-password backend (the admin's login)."""


class PortalAuthenticationBackend(UserWithRolesMixin, AuthenticationBackend):
    """allauth's backend (login by username or e-mail)."""
