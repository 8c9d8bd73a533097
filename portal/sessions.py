"""Django's database session store, with the session and its person read in one statement.

Every logged-in request reads its session and then the person with their roles (two round trips
and two statements for PostgreSQL to plan). Here the session row (`portal.UserSession`) also
carries the person's id, written whenever the session is saved, and the one read every request
makes joins the person and their Membership rows to it (portal/auth_backends.py builds the
statement). The person is handed to the login backend through `reading_user_of()` for the length
of Django's `get_user()`, and is used only when it is the one the session names.

The database stays the only place a session lives, so logging out (or the idle and absolute ends
in portal/security.py) ends it at once in every process, and Redis is never needed to stay logged
in. Writes (create, the once-a-minute refresh, delete) stay Django's own.
"""

import contextvars
import logging
from contextlib import contextmanager

from django.contrib import auth
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth import middleware as auth_middleware
from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import router
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

NOT_READ = object()
_reading = contextvars.ContextVar("portal_session_being_read", default=None)


class SessionStore(db.SessionStore):
    _user_read_with_session = NOT_READ

    @classmethod
    def get_model_class(cls):
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = get_user_model()._meta.pk.to_python(data.get(SESSION_KEY))
        except ValidationError:
            session.user_id = None
        return session

    def _get_session_from_db(self):
        from .auth_backends import session_with_user

        self._user_read_with_session = NOT_READ
        key = self.session_key
        if key is None:
            return None
        model = self.model
        try:
            found = session_with_user(router.db_for_read(model), key, timezone.now())
        except SuspiciousOperation as exc:  # as Django's own store: log it, start afresh
            logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))
            found = None
        if found is None:
            self._session_key = None
            return None
        session_data, self._user_read_with_session = found
        return model(session_key=key, session_data=session_data)

    def user_read_with_session(self, user_id):
        """The person (roles set) read with this session's row when it is `user_id`, else
        NOT_READ (the backend then reads them itself)."""
        user = self._user_read_with_session
        if user is NOT_READ or user is None or user.pk != user_id:
            return NOT_READ
        return user


@contextmanager
def reading_user_of(session):
    """While Django's get_user() runs: the session whose row may already hold the person."""
    token = _reading.set(session)
    try:
        yield
    finally:
        _reading.reset(token)


def user_read_with_current_session(user_id):
    session = _reading.get()
    if not isinstance(session, SessionStore):
        return NOT_READ
    return session.user_read_with_session(user_id)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with `request.user` read through `reading_user_of(request.session)`."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))


def _get_user(request):
    if not hasattr(request, "_cached_user"):  # Django's own memo (django.contrib.auth.middleware)
        with reading_user_of(request.session):
            request._cached_user = auth.get_user(request)
    return request._cached_user
