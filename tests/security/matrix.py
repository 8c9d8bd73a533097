"""The access-control table: every URL of the portal, who may use it, and by which method.

The URL list comes from Django's resolver (`portal_urls()`), so a page added to any app shows up
here; `test_every_url_has_an_entry` fails until the page has a row in MATRIX (or, for third-party
URLs under admin/ and accounts/, an entry in THIRD_PARTY with a reason).

Outcomes (what a response means):
  ok           the view did its work: 2xx, a redirect that is not to a login page, or (POST) a 400
               that answers the form's errors
  login        302 to the login page (anonymous)
  admin_login  302 to the admin's login page (Django admin, anyone who is not is_staff)
  deny         403, and an AuditEvent `access.refused` was written for it
  unauthorized 401 (the collector API without a token)
  not_found    404
  not_allowed  405 (the method is not one the view accepts)
"""

import fnmatch
import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .world import ROLES

# --- policies: role -> outcome --------------------------------------------------------------------


def _policy(anonymous, coordinator, other_coordinator, convener, bureau, sysadmin):
    return dict(zip(ROLES, (anonymous, coordinator, other_coordinator, convener, bureau, sysadmin),
                    strict=True))  # fmt: skip


# anyone, logged in or not
PUBLIC = _policy("ok", "ok", "ok", "ok", "ok", "ok")
# any logged-in account (allauth's account pages)
AUTHENTICATED = _policy("login", "ok", "ok", "ok", "ok", "ok")
# any member of the network: published minutes, tracked items, survey list, VM policy
MEMBER = _policy("login", "ok", "ok", "ok", "ok", "ok")
# bureau staff and admins only
STAFF = _policy("login", "deny", "deny", "deny", "ok", "ok")
# reading data private to 新店國小 (URL bound to its objects): its coordinator, the convener of its
# district (文山分區), bureau staff; 江翠國中's coordinator is refused
SCHOOL_PRIVATE = _policy("login", "ok", "deny", "ok", "ok", "ok")
# filing in 新店國小's name: only its own coordinator (conveners and staff read, they do not file)
SCHOOL_ACT = _policy("login", "ok", "deny", "deny", "deny", "deny")
# a background job 新店國小's coordinator started: the owner and staff
OWNER = _policy("login", "ok", "deny", "deny", "ok", "ok")
# a URL carrying its own secret (feed keys): whoever holds the link, no session needed
SECRET_LINK = _policy("ok", "ok", "ok", "ok", "ok", "ok")
# a link whose secret names nothing (an unknown invitation): 404 for everyone, logged in or not
UNKNOWN_LINK = _policy("not_found", "not_found", "not_found", "not_found", "not_found",
                       "not_found")  # fmt: skip
# the collector API: a bearer token only; a browser session is no credential
API_TOKEN = _policy("unauthorized", "unauthorized", "unauthorized", "unauthorized",
                    "unauthorized", "unauthorized")  # fmt: skip
# Django's admin: is_staff accounts (the system admin); everyone else gets its login page
ADMIN = _policy("admin_login", "admin_login", "admin_login", "admin_login", "admin_login", "ok")
# a draft proposal 文山分區's convener wrote: its author and bureau staff
PROPOSAL_DRAFT = _policy("login", "deny", "deny", "ok", "ok", "ok")
# changing a draft proposal's text: its author only
PROPOSAL_AUTHOR = _policy("login", "deny", "deny", "ok", "deny", "deny")
# writing a proposal for a noticed meeting: coordinators and conveners (for their districts)
PROPOSERS = _policy("login", "ok", "ok", "ok", "deny", "deny")
DISTRICT_VIEW = _policy("login", "deny", "deny", "ok", "ok", "ok")
# answering attendance, signing in, asking for a timetable note: for one's own schools (a
# coordinator's, a convener's district's); bureau staff have no school to answer for
ATTENDEES = _policy("login", "ok", "ok", "ok", "deny", "deny")

POLICY_NAMES = {
    id(p): n
    for n, p in [("public", PUBLIC), ("authenticated", AUTHENTICATED), ("member", MEMBER),
                 ("staff", STAFF), ("school-private", SCHOOL_PRIVATE), ("school-act", SCHOOL_ACT),
                 ("owner", OWNER), ("secret-link", SECRET_LINK), ("unknown-link", UNKNOWN_LINK),
                 ("api-token", API_TOKEN), ("admin", ADMIN),
                 ("proposal-draft", PROPOSAL_DRAFT), ("proposal-author", PROPOSAL_AUTHOR),
                 ("proposers", PROPOSERS), ("district-view", DISTRICT_VIEW),
                 ("attendees", ATTENDEES)]
}  # fmt: skip

METHODS = ["GET", "POST"]


def not_accepted(role):
    """A method the view does not take: 405, or for anonymous the login page first."""
    return {"not_allowed", "login"} if role == "anonymous" else {"not_allowed"}


# --- URL kwargs: which object of the world each URL argument names --------------------------------

# namespace -> {kwarg: world attribute}; a row may override with `args`
ARGS = {
    "": {"pk": "job", "token": "bogus_token"},
    "meetings": {"pk": "draft", "item_pk": "draft_item", "motion_pk": "draft_motion",
                 "action": "up", "key": "feed_key", "job_pk": "import_job",
                 "attachment_pk": "draft_attachment"},
    "tracking": {"case_no": "open_case_no", "meeting_id": "tracking_meeting", "pk": "review"},
    "signups": {"pk": "survey", "school_pk": "xindian", "run_pk": "import_run"},
    "vmquota": {"pk": "xindian_vm", "code": "xindian_code"},
    "admin": {},
}  # fmt: skip
LITERALS = {"up", "no-such-path", "accepted"}


@dataclass(frozen=True)
class Row:
    name: str
    methods: dict  # method -> policy
    variant: str = ""  # when one URL name is probed with different objects
    args: dict = field(default_factory=dict)  # kwarg -> world attribute (overrides ARGS)
    note: str = ""
    # (role, method) -> reason: a known bug, marked xfail(strict=True) until it is fixed
    bugs: dict = field(default_factory=dict)
    # called with the world before the request (for state a row needs to be fresh)
    prepare: object = None

    @property
    def id(self):
        return self.name + (f"[{self.variant}]" if self.variant else "")


GET = "GET"
POST = "POST"


def R(name, variant="", note="", args=None, bugs=None, prepare=None, **methods):  # noqa: N802
    """A row of the table."""
    return Row(name=name, methods=methods, variant=variant, args=args or {}, note=note,
               bugs=bugs or {}, prepare=prepare)  # fmt: skip


def fresh_heartbeat(world):
    """/healthz answers 503 without a recent worker heartbeat; access is what is probed here."""
    from django.utils import timezone

    from portal.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        worker="matrix@test", defaults={"seen_at": timezone.now()}
    )


# Known bugs (reported): a row's `bugs` marks its cells xfail(strict=True), so the fix makes them
# fail loudly and the mark is removed. None today; found here and fixed: the audit log's crash on
# a detail key named "items", a draft meeting's tracking tables open to coordinators.

# Read views that do not restrict the method answer POST exactly like GET (no write happens);
# they are listed with POST = the GET policy so the refusal still holds for POST. See
# docs/security.md ("Read pages that also answer POST").
MATRIX = [
    # --- portal -----------------------------------------------------------------------------------
    R("home", GET=PUBLIC, POST=PUBLIC, note="welcome page for anonymous visitors"),
    R("healthz", GET=PUBLIC, POST=PUBLIC, note="load balancer probe; no personal data",
      prepare=fresh_heartbeat),
    R("ping", GET=PUBLIC, POST=PUBLIC),
    R("people", GET=STAFF, POST=STAFF),
    R("audit_log", GET=STAFF, POST=STAFF),
    R("invitations", GET=STAFF, POST=STAFF),
    R("invitation_resend", args={"pk": "invitation"}, POST=STAFF),
    R("invitation_revoke", args={"pk": "invitation"}, POST=STAFF),
    R("schools_import", GET=STAFF, POST=STAFF),
    R("mail_test", GET=STAFF, POST=STAFF),
    R("job_detail", GET=OWNER, POST=OWNER),
    R("job_status", GET=OWNER, POST=OWNER),
    R("job_retry", POST=OWNER, note="only a job the broker never took is sent again"),
    R("invitation_accept", GET=UNKNOWN_LINK, POST=UNKNOWN_LINK,
      note="an unknown token: a page saying the link is not valid, for everyone"),
    # --- allauth (third party; the pages people use are probed) -----------------------------------
    R("account_login", GET=PUBLIC, POST=PUBLIC),
    R("account_signup", GET=PUBLIC, POST=PUBLIC, note="closed except by invitation"),
    R("account_reset_password", GET=PUBLIC, POST=PUBLIC),
    R("account_reset_password_done", GET=PUBLIC),
    R("account_logout", GET=PUBLIC, POST=PUBLIC),
    R("account_change_password", GET=AUTHENTICATED, POST=AUTHENTICATED),
    R("account_email", GET=AUTHENTICATED, POST=AUTHENTICATED),
    # --- Django admin (third party) ---------------------------------------------------------------
    R("admin:index", GET=ADMIN, POST=ADMIN),
    R("admin:portal_school_import_list", GET=ADMIN, POST=ADMIN),
    # --- meetings ---------------------------------------------------------------------------------
    R("meetings:list", GET=MEMBER, POST=MEMBER),
    R("meetings:search", GET=MEMBER, POST=MEMBER),
    R("meetings:subscribe", GET=MEMBER, POST=MEMBER),
    R("meetings:import", GET=STAFF, POST=STAFF),
    R("meetings:import_preview", GET=STAFF, POST=STAFF, note="a preview job another clerk started"),
    R("meetings:import_save", POST=STAFF),
    R("meetings:import_fix", POST=STAFF),
    R("meetings:import_move", POST=STAFF),
    R("meetings:new", GET=STAFF, POST=STAFF),
    R("meetings:feed", GET=SECRET_LINK, POST=SECRET_LINK),
    R("meetings:feed", variant="bad-key", args={"key": "bogus_token"},
      GET={r: "not_found" for r in ROLES}, POST={r: "not_found" for r in ROLES}),
    R("meetings:calendar", GET=SECRET_LINK, POST=SECRET_LINK),
    R("meetings:detail", variant="published", args={"pk": "published"}, GET=MEMBER, POST=MEMBER),
    R("meetings:detail", variant="draft", GET=STAFF, POST=STAFF,
      note="coordinators read published minutes only"),
    R("meetings:text", variant="published", args={"pk": "published"}, GET=MEMBER, POST=MEMBER),
    R("meetings:text", variant="draft", GET=STAFF, POST=STAFF),
    R("meetings:docx", variant="published", args={"pk": "published"}, GET=MEMBER, POST=MEMBER),
    R("meetings:docx", variant="draft", GET=STAFF, POST=STAFF),
    R("meetings:edit", GET=STAFF, POST=STAFF),
    R("meetings:attendance", POST=STAFF),
    R("meetings:attachment_add", POST=STAFF),
    R("meetings:attachment_link", POST=STAFF),
    R("meetings:attachment", variant="published",
      args={"pk": "published", "attachment_pk": "published_attachment"}, GET=MEMBER, POST=MEMBER,
      note="files are served through the view, never a public media URL"),
    R("meetings:attachment", variant="draft", GET=STAFF, POST=STAFF),
    R("meetings:attachment_delete", POST=STAFF),
    R("meetings:publish", POST=STAFF),
    R("meetings:item_add", POST=STAFF),
    R("meetings:item_update", POST=STAFF),
    R("meetings:item_action", POST=STAFF),
    R("meetings:motion_add", POST=STAFF),
    R("meetings:motion_update", POST=STAFF),
    R("meetings:motion_action", POST=STAFF),
    R("meetings:coming", GET=MEMBER, POST=MEMBER),
    R("meetings:plan", GET=STAFF, POST=STAFF),
    R("meetings:agenda", variant="planned", GET=STAFF, POST=STAFF,
      note="before the notice nothing of a meeting is shown to members"),
    R("meetings:agenda", variant="noticed", args={"pk": "noticed"}, GET=MEMBER, POST=MEMBER),
    R("meetings:plan_edit", GET=STAFF, POST=STAFF),
    R("meetings:agenda_docx", variant="planned", GET=STAFF, POST=STAFF),
    R("meetings:agenda_docx", variant="noticed", args={"pk": "noticed"}, GET=MEMBER,
      POST=MEMBER),
    R("meetings:division_reports", GET=STAFF, POST=STAFF,
      note="each division's staff add to their own division's slot"),
    R("meetings:notice", POST=STAFF),
    R("meetings:cancel", POST=STAFF),
    R("meetings:attendance_replies", variant="planned", GET=STAFF, POST=STAFF),
    R("meetings:attendance_replies", variant="noticed", args={"pk": "noticed"}, GET=MEMBER,
      POST=MEMBER, note="a reply for a school one does not serve is a message, nothing saved"),
    R("meetings:signin", args={"pk": "noticed"}, GET=ATTENDEES, POST=ATTENDEES,
      note="the page the QR code opens; the code itself is checked by attendance.sign_in"),
    R("meetings:signin_desk", args={"pk": "noticed"}, GET=STAFF, POST=STAFF,
      note="the QR code and the recorder's ticks"),
    R("meetings:signin_sheet", variant="draft", GET=STAFF, POST=STAFF),
    R("meetings:signin_sheet", variant="published", args={"pk": "published"}, GET=MEMBER,
      POST=MEMBER, note="the 簽到表 goes with the minutes"),
    R("meetings:timetables", args={"pk": "noticed"}, GET=MEMBER, POST=ATTENDEES),
    R("meetings:timetable_collect", args={"pk": "timetable_note"}, POST=DISTRICT_VIEW,
      note="the note's district's convener, and bureau staff"),
    R("meetings:absences", GET=DISTRICT_VIEW, POST=DISTRICT_VIEW,
      note="conveners see their district's schools only (tests/meetings)"),
    R("meetings:minutes_open", args={"pk": "noticed"}, POST=STAFF,
      note="the recorder turns the agenda into the draft minutes"),
    R("meetings:proposals", variant="planned", GET=STAFF, POST=STAFF),
    R("meetings:proposals", variant="noticed", args={"pk": "noticed"}, GET=MEMBER, POST=MEMBER),
    R("meetings:proposal_new", args={"pk": "noticed"}, GET=PROPOSERS, POST=PROPOSERS),
    R("meetings:proposal", args={"pk": "draft_proposal"}, GET=PROPOSAL_DRAFT, POST=PROPOSAL_DRAFT),
    R("meetings:proposal_edit", args={"pk": "draft_proposal"}, GET=PROPOSAL_AUTHOR,
      POST=PROPOSAL_AUTHOR),
    R("meetings:proposal_move", args={"pk": "draft_proposal", "to": "accepted"},
      POST=PROPOSAL_DRAFT, note="a move the table refuses is a message on the proposal's page"),
    # --- tracking ---------------------------------------------------------------------------
    R("tracking:list", GET=MEMBER),
    R("tracking:export", GET=STAFF),
    R("tracking:feed", GET=MEMBER, POST=MEMBER),
    R("tracking:meeting_new", GET=STAFF, POST=STAFF),
    R("tracking:meeting", variant="published", GET=MEMBER),
    R("tracking:meeting", variant="draft", args={"meeting_id": "draft"}, GET=STAFF,
      note="a draft's tracking tables are part of unpublished minutes"),
    R("tracking:decide", POST=STAFF),
    R("tracking:item", GET=MEMBER),
    R("tracking:update", POST=STAFF, note="bureau staff of the item's division (any, here)"),
    R("tracking:subscribe", POST=MEMBER),
    R("tracking:assign", POST=STAFF),
    # --- signups ----------------------------------------------------------------------------------
    R("signups:list", GET=MEMBER, POST=MEMBER),
    R("signups:create", GET=STAFF, POST=STAFF),
    R("signups:from_template", GET=STAFF, POST=STAFF),
    R("signups:edit", GET=STAFF, POST=STAFF),
    R("signups:columns", GET=STAFF, POST=STAFF),
    R("signups:survey", GET=MEMBER, POST=MEMBER,
      note="sends each role on to the page it may use"),
    R("signups:grid", GET=STAFF, POST=STAFF),
    R("signups:rows", GET=STAFF, POST=STAFF),
    R("signups:export", GET=STAFF, POST=STAFF),
    R("signups:remind", POST=STAFF),
    R("signups:file", GET=SCHOOL_PRIVATE, POST=SCHOOL_ACT),
    R("signups:import", POST=SCHOOL_ACT),
    R("signups:import_result", GET=SCHOOL_PRIVATE, POST=SCHOOL_PRIVATE),
    R("signups:template", GET=SCHOOL_PRIVATE, POST=SCHOOL_PRIVATE),
    R("signups:return", POST=STAFF),
    R("signups:reopen", POST=STAFF),
    # --- vmquota ----------------------------------------------------------------------------------
    R("vmquota:index", GET=MEMBER, POST=MEMBER),
    R("vmquota:school", GET=SCHOOL_PRIVATE, POST=SCHOOL_PRIVATE),
    R("vmquota:vm", GET=SCHOOL_PRIVATE, POST=SCHOOL_PRIVATE),
    R("vmquota:incident", args={"pk": "xindian_incident"}, GET=SCHOOL_PRIVATE, POST=SCHOOL_PRIVATE),
    R("vmquota:district", args={"pk": "wenshan"}, GET=DISTRICT_VIEW, POST=DISTRICT_VIEW),
    R("vmquota:vm_history", GET=SCHOOL_PRIVATE),
    R("vmquota:vm_resume", POST=STAFF, note="bureau staff resume a suspended VM"),
    R("vmquota:vm_assign", POST=STAFF),
    R("vmquota:board", GET=STAFF, POST=STAFF),
    R("vmquota:policy", GET=MEMBER, POST=MEMBER),
    R("vmquota:policy_new", GET=STAFF, POST=STAFF),
    R("vmquota:whatif", GET=STAFF, POST=STAFF),
    R("vmquota:whatif_result", args={"pk": "whatif_run"}, GET=STAFF, POST=STAFF),
    R("vmquota:exemptions", GET=STAFF, POST=STAFF),
    R("vmquota:tokens", GET=STAFF, POST=STAFF),
    R("vmquota:upload", GET=STAFF, POST=STAFF),
    R("vmquota:api_samples", POST=API_TOKEN),
    R("vmquota:api_openapi", GET=PUBLIC),
    R("vmquota:api_not_found", args={"rest": "no-such-path"}, GET=UNKNOWN_LINK, POST=UNKNOWN_LINK,
      note="every answer under /api/vmquota/ is JSON, an unknown path a JSON 404"),
]  # fmt: skip

# Third-party URL names that are not rows of MATRIX, each with the reason. Patterns (fnmatch)
# may only match names under admin/ and accounts/ (checked).
THIRD_PARTY = {
    "admin:*_changelist": "probed: one row per registered model is added to the matrix (ADMIN)",
    "admin:*_password_change": "the admin's user password form, behind admin_view",
    "admin:*_add": "same admin_view wrapper as the model's changelist, which is probed",
    "admin:*_change": "same admin_view wrapper as the changelist; needs an object id",
    "admin:*_delete": "same admin_view wrapper as the changelist; needs an object id",
    "admin:*_history": "same admin_view wrapper as the changelist; needs an object id",
    "admin:login": "Django admin's own login form; login protection in tests/portal/test_security.py",
    "admin:logout": "Django admin's logout (POST only)",
    "admin:password_change": "behind admin_view like admin:index",
    "admin:password_change_done": "behind admin_view like admin:index",
    "admin:autocomplete": "behind admin_view; answers only for registered admin search fields",
    "admin:jsi18n": "static JavaScript catalog of the admin",
    "admin:view_on_site": "redirects to an object's public URL, which is itself in the matrix",
    "admin:app_list": "behind admin_view like admin:index",
    "account_inactive": "allauth: static page 'account inactive'",
    "account_reauthenticate": "allauth: login_required form re-asking the password",
    "account_*reauthentication_code": "allauth: login-code flow, disabled (no login by code)",
    "account_confirm_login_code": "allauth: login-code flow, disabled (no login by code)",
    "account_email_verification_sent": "allauth: static notice",
    "account_confirm_email": "allauth: the key in the URL is the credential",
    "account_set_password": "allauth: login_required; redirects when a password exists",
    "account_reset_password_from_key*": "allauth: the key in the URL is the credential",
    "socialaccount_*": "allauth: OIDC sign-up/connections; tested in tests/portal/test_oidc.py",
    "openid_connect_*": "allauth: OIDC login and callback; tested in tests/portal/test_oidc.py",
}

# URL patterns without a name that may exist (allauth's legacy redirects under accounts/social/,
# and the admin's `<object_id>/` redirects to the change page)
UNNAMED_OK_PREFIXES = ("accounts/", "admin/")


# --- the walk over the resolver -------------------------------------------------------------------


@dataclass(frozen=True)
class Url:
    name: str | None
    route: str
    kwargs: tuple  # names of the URL's keyword arguments
    module: str


def _kwarg_names(pattern):
    regex = pattern.pattern.regex
    return tuple(regex.groupindex)


def portal_urls(resolver=None, prefix="", namespace=""):
    """Every URL pattern of the portal, recursively, with its namespaced name."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found += portal_urls(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            kwargs = tuple(_kwarg_names(entry))
            callback = entry.callback
            found.append(Url(name, prefix + str(entry.pattern), kwargs,
                             getattr(callback, "__module__", "") or ""))  # fmt: skip
    # kwargs of enclosing resolvers (none in this project) would be missed: say so if they appear
    return found


def third_party_reason(name):
    for pattern, reason in THIRD_PARTY.items():
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    return None


def admin_changelist_rows(urls=None):
    """One ADMIN row per model the admin registers (its changelist), and one per spreadsheet
    export django-import-export adds (personal data leaves through it): a new ModelAdmin is
    probed too."""
    urls = urls if urls is not None else portal_urls()
    return [
        R(u.name, GET=ADMIN, POST=ADMIN)
        for u in urls
        if u.name and u.name.startswith("admin:") and u.name.endswith(("_changelist", "_export"))
    ]


def all_rows():
    return MATRIX + admin_changelist_rows()


def namespace_of(name):
    return name.split(":", 1)[0] if ":" in name else ""


def kwargs_for(row, world, url_kwargs=None):
    """The URL's keyword arguments, from the world (ARGS, overridden by the row)."""
    if url_kwargs is None:
        url_kwargs = next(u.kwargs for u in portal_urls() if u.name == row.name)
    table = {**ARGS.get(namespace_of(row.name), {}), **row.args}
    kwargs = {}
    for name in url_kwargs:
        source = table[name]
        if source in LITERALS:
            kwargs[name] = source
            continue
        value = getattr(world, source)
        kwargs[name] = getattr(value, "pk", value)
    return kwargs


def path_for(row, world):
    return reverse(row.name, kwargs=kwargs_for(row, world))


# --- what a response means ------------------------------------------------------------------------

_LOGIN = re.compile(r"^(https?://[^/]+)?/accounts/login/")
_ADMIN_LOGIN = re.compile(r"^(https?://[^/]+)?/admin/login/")


def outcome_of(response, method):
    status = response.status_code
    if status >= 500:
        return "error"
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        if _LOGIN.match(location):
            return "login"
        if _ADMIN_LOGIN.match(location):
            return "admin_login"
        return "ok"
    return {401: "unauthorized", 403: "deny", 404: "not_found", 405: "not_allowed"}.get(
        status, "ok" if status < 300 or (status == 400 and method == "POST") else f"status {status}"
    )
