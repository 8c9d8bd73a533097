"""The login backends, with the lookup every logged-in request makes done in one query.

Django calls the session's backend's `get_user()` on every request, and the portal then needs the
person's roles (portal/access.py). Django's own `get_user()` builds an ORM query each time, and the
roles were a second one: 0.23 + 0.25 ms of Python on this machine, the larger part of a logged-in
request that shows a cached page. Here the user and their Membership rows come back together from
one ready-made statement (0.10 ms). Authentication itself (passwords, allauth's login by username
or e-mail, axes' lockout before them) is untouched.
"""

from functools import cache

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from .access import roles_from_memberships
from .models import Membership

ROLE_COLUMNS = ("role", "school_id", "district_id", "division_id")
ROLE_ALIASES = tuple(f"portal_membership_{c}" for c in ROLE_COLUMNS)


@cache
def _user_with_roles_sql(alias):
    """The statement for one database alias (names quoted its way), built once per process.
    Keyed on the alias, not on its connection: a threaded server makes a connection per thread."""
    from django.db import connections

    quote_name = connections[alias].ops.quote_name
    User = get_user_model()
    columns = ", ".join(f"u.{quote_name(f.column)}" for f in User._meta.concrete_fields)
    roles = ", ".join(
        f"m.{quote_name(c)} AS {quote_name(a)}"
        for c, a in zip(ROLE_COLUMNS, ROLE_ALIASES, strict=True)
    )
    return (
        f"SELECT {columns}, {roles} FROM {quote_name(User._meta.db_table)} u "  # noqa: S608 – names from the models
        f"LEFT JOIN {quote_name(Membership._meta.db_table)} m "
        f"ON m.{quote_name(Membership._meta.get_field('user').column)} = "
        f"u.{quote_name(User._meta.pk.column)} "
        f"WHERE u.{quote_name(User._meta.pk.column)} = %s"
    )


def user_with_roles(user_id):
    """The user with `_portal_roles` already set, or None."""
    from django.db import router

    User = get_user_model()
    alias = router.db_for_read(User)
    sql = _user_with_roles_sql(alias)
    rows = list(User._default_manager.db_manager(alias).raw(sql, [user_id]))
    if not rows:
        return None
    user = rows[0]
    memberships = [
        tuple(getattr(r, a) for a in ROLE_ALIASES) for r in rows if r.portal_membership_role
    ]
    for alias_name in ROLE_ALIASES:  # not fields of the user: leave no trace on the instance
        delattr(user, alias_name)
    user._portal_roles = roles_from_memberships(user, memberships)
    return user


class UserWithRolesMixin:
    def get_user(self, user_id):
        try:
            user_id = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:  # a malformed id in a session: nobody
            return None
        user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(UserWithRolesMixin, ModelBackend):
    """Django's username-and-password backend (the admin's login)."""


class PortalAuthenticationBackend(UserWithRolesMixin, AuthenticationBackend):
    """allauth's backend (login by username or e-mail)."""
