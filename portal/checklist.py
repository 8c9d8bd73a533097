"""The first-run checklist on the bureau's home: what must be in place before the network uses
the portal. It disappears once every step is done.

Apps add steps of their own in their AppConfig.ready() with `register_step` (vmquota: a
collector token), since the portal imports no app above it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from . import access
from .models import AuditEvent, School

MAIL_TESTED = "portal.mail_tested"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: Callable[[], bool]
    hint: str = ""
    url_name: str = ""
    order: int = 50


_steps: dict[str, Step] = {}


def register_step(key, label, done, *, hint="", url_name="", order=50):
    """`done()` says whether the step is in place; `url_name` is where it is done."""
    _steps[key] = Step(key, label, done, hint, url_name, order)


def _schools_imported():
    return School.objects.exists()


def _every_school_has_coordinator():
    from .organisation import schools_without_coordinator

    return School.objects.exists() and not schools_without_coordinator().exists()


def _mail_tested():
    return AuditEvent.objects.filter(action=MAIL_TESTED, detail__accepted=True).exists()


def _oidc_settled():
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    return bool(apps) or settings.OIDC_OFF


register_step(
    "schools", "匯入分區與學校名冊", _schools_imported, url_name="schools_import", order=10,
    hint="上傳教育局的學校名冊（學校代碼、校名、學制、分區、電子郵件網域、召集學校）。",
)  # fmt: skip
register_step(
    "coordinators", "每所學校都有資訊組長", _every_school_has_coordinator,
    url_name="invitations", order=20, hint="上傳「學校代碼、電子郵件」名單，寄出邀請。",
)  # fmt: skip
register_step(
    "mail", "測試寄信成功", _mail_tested, url_name="mail_test", order=30,
    hint="寄一封測試信，確認 SMTP 伺服器接受本站寄出的信。",
)  # fmt: skip
register_step(
    "oidc", "設定 OpenID 登入，或明確關閉", _oidc_settled, order=40,
    hint="在 .env 設定 OIDC_…_CLIENT_ID／SECRET／SERVER_URL，或設 PORTAL_OIDC_OFF=true。",
)  # fmt: skip


def steps():
    """[(step, done)] in order."""
    result = []
    for step in sorted(_steps.values(), key=lambda s: s.order):
        try:
            done = bool(step.done())
        except Exception:  # noqa: BLE001 – a step that cannot tell is not done
            done = False
        result.append((step, done))
    return result


def checklist_block(request):
    """Home block for bureau staff while a step is missing."""
    if not access.is_staff(request.user):
        return None
    items = steps()
    if all(done for _, done in items):
        return None
    return "partials/home_checklist.html", {
        "steps": [{"step": s, "done": d} for s, d in items],
        "remaining": sum(1 for _, d in items if not d),
    }
