"""Django's database session store, with each session row naming the person logged in with it.

The row (`portal.UserSession`) carries the person's id so that an admin can find and end a
person's sessions (a lost phone, someone who left), and so that they end with the account.
"""

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls):
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = get_user_model()._meta.pk.to_python(data.get(SESSION_KEY))
        except ValidationError:  # a malformed id in a session: nobody
            session.user_id = None
        return session
