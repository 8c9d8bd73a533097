"""Django's database session store, with the session and its person read in one statement.

Every logged-in request reads its session and then the person with their roles (two round trips
and two statements for PostgreSQL to plan). Here the session row (`portal.UserSession`) also
carries the person's id, written whenever the session is saved, and the one read every request
makes joins the person and their Membership rows to it (portal/auth_backends.py builds the
statement). The person is handed to the login backend through `reading_user_of()` for the length
of Django's `get_user()`, and is used only when it is the one the session names.

That read is then kept in the cache (Redis in production) for at most CACHED_S seconds, so that
a person clicking through the portal costs PostgreSQL one statement every half minute, not one
a page. The database stays the record: a session is only ever created, refreshed and ended
there (Django's own writes), and every saved or deleted session row drops its kept copy in the
same request, as do changes to the person or their roles (signals in portal/signals.py). So
logging out, an admin ending a session, a role taken or an account switched off count from the
next request in every process. A change that skips the signals (a queryset `update()`) shows
within CACHED_S seconds; so does a logout made while Redis was unreachable (its delete could not
reach the kept copy). A read that began before a change committed cannot be kept after it: the
change leaves a mark in its place for FORGET_S seconds that no read overwrites (Django's own
`cached_db` store leaves that window open). Without a cache the store reads the database every
time, as before.
"""

import contextvars
import logging
from contextlib import contextmanager

from django.contrib import auth
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth import middleware as auth_middleware
from django.contrib.sessions.backends import db
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import router
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .cache import now_and_at_commit

log = logging.getLogger("portal.sessions")
NOT_READ = object()
CACHED_S = 30
CACHE_PREFIX = "portal:session:"
ENDED = "ended"  # in place of a kept read that a change made old
FORGET_S = 5
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

    def load(self):
        """The session's data, from the cache when kept there, else from the database (and
        then kept, decoded, with the person: the next request needs neither the statement nor
        the signature check)."""
        self._user_read_with_session = NOT_READ
        key = self.session_key
        if key is None:
            return {}
        now = timezone.now()
        found = _cached(key)
        if found is None or found[1] <= now:
            row = self._get_session_from_db()
            if row is None:
                return {}
            found = (self.decode(row.session_data), row.expire_date, self._user_read_with_session)
            _keep(key, found, min(CACHED_S, int((row.expire_date - now).total_seconds())))
        data, _, self._user_read_with_session = found
        return data

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
        session_data, expire_date, self._user_read_with_session = found
        return model(session_key=key, session_data=session_data, expire_date=expire_date)

    def user_read_with_session(self, user_id):
        """The person (roles set) read with this session's row when it is `user_id`, else
        NOT_READ (the backend then reads them itself)."""
        user = self._user_read_with_session
        if user is NOT_READ or user is None or user.pk != user_id:
            return NOT_READ
        return user


def _cached(key):
    try:
        found = cache.get(CACHE_PREFIX + key)
    except Exception:  # noqa: BLE001 – no cache: read the database
        log.warning("sessions: the cache is unavailable; reading the database", exc_info=True)
        return None
    return found if isinstance(found, tuple) else None  # ENDED or nothing: read the database


def _keep(key, found, seconds):
    """Keep a read unless the session changed while it was being made (`add`, not `set`: a
    change leaves ENDED in its place for FORGET_S seconds, which a late read cannot replace)."""
    if seconds > 0:
        try:
            cache.add(CACHE_PREFIX + key, found, seconds)
        except Exception:  # noqa: BLE001
            log.warning("sessions: the cache is unavailable; the read is not kept", exc_info=True)


def forget_sessions(*session_keys):
    """Drop the kept copies of these sessions' reads, now and again when the transaction that
    changed them commits. Each is replaced by ENDED for FORGET_S seconds, so that a request that
    read the database before the change cannot keep its old read after it (for that while these
    sessions are read from the database)."""
    ended = {CACHE_PREFIX + k: ENDED for k in session_keys if k}
    if not ended:
        return

    def forget():
        try:
            cache.set_many(ended, FORGET_S)
        except Exception:  # noqa: BLE001 – the change itself must not fail for the cache
            log.error("sessions: could not drop %d kept session reads; they may be used for "
                      "up to %s s", len(ended), CACHED_S, exc_info=True)  # fmt: skip

    now_and_at_commit(forget)


def forget_sessions_of(user_id):
    """Drop the kept reads of every session of this person: their account or roles changed."""
    from .models import UserSession

    if user_id is not None:
        forget_sessions(
            *UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True)
        )


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
