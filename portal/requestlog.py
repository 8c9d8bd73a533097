"""Log lines a journal or a container log can read: one line per event, each with the id of the
request it belongs to (also sent back as X-Request-ID, so a person can quote it)."""

import contextvars
import logging
import re
import uuid

_request_id = contextvars.ContextVar("request_id", default="-")
# an id the proxy already gave the request is kept, if it looks like one
_INCOMING = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id():
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING.fullmatch(incoming) else uuid.uuid4().hex[:16]
        token = _request_id.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        return True


class OneLineFormatter(logging.Formatter):
    """A traceback or a multi-line message stays on its event's line (newlines shown as ⏎)."""

    def format(self, record):
        return super().format(record).replace("\r\n", "\n").replace("\n", " ⏎ ")
