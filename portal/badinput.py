"""Input no page can use is refused up front, with a Chinese 400 page, never a 500.

- `BadInputMiddleware` refuses a NUL byte anywhere a person or a link can put one: the path, the
  query string, a form field (name or value), an uploaded file's name, a cookie. No page of the
  portal has a use for it, and PostgreSQL refuses it in any text ("A string literal cannot
  contain NUL"), so without this every view that looks something up by it would answer 500.
  The same middleware gives Django's empty 405 answers (require_POST/require_GET) a page.
- `query_params(request, FormClass)` reads a list or search page's query string through a form
  with bounds; an unusable value (a year past 9999, text for a number) is an `InvalidInput`,
  which the 400 page (`portal.views.bad_request`, handler400) shows with the field's message.
"""

from django.core.exceptions import BadRequest
from django.shortcuts import render

NUL = "\x00"
NUL_MESSAGE = "您送出的內容含有無法處理的控制字元（NUL），請重新複製貼上後再送出。"

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InvalidInput(BadRequest):
    """The request carries input the portal cannot use; the message (Chinese) says which and why,
    and is shown to the person on the 400 page."""


def _has_nul(pairs):
    return any(NUL in key or any(NUL in value for value in values) for key, values in pairs)


def nul_in_request(request):
    """Whether a NUL byte is anywhere in what the request asks for or sends as a form."""
    if NUL in request.path_info or _has_nul(request.GET.lists()):
        return True
    if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
        return True
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        # Reading the form here (before CSRF would) also raises RequestDataTooBig and friends,
        # which handler400 answers with a page naming the limit.
        if _has_nul(request.POST.lists()):
            return True
        return any(NUL in (upload.name or "") for upload in request.FILES.values())
    return False


class BadInputMiddleware:
    """Before the session and the person are read: a NUL byte never reaches a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if nul_in_request(request):
            raise InvalidInput(NUL_MESSAGE)
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response


def query_params(request, form_class):
    """The cleaned query string of a list or search page, or InvalidInput naming each field."""
    form = form_class(request.GET)
    if form.is_valid():
        return form.cleaned_data
    problems = [
        f"{form.fields[name].label if name in form.fields else name}：{message}"
        for name, messages in form.errors.items()
        for message in messages
    ]
    raise InvalidInput("網址中的條件無法使用：" + "；".join(problems))
