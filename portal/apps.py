from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "入口網站"

    def ready(self):
        from . import access, fragments, security, signals  # noqa: F401
        from .navigation import register_home_block, register_nav, vary_by_roles_and_day
        from .views import PEOPLE_COUNTER, roles_block

        _speak_chinese()
        _describe_audit_codes()
        register_nav("首頁", "home", order=0)
        register_nav("人員與邀請", "people", visible=access.is_staff, order=90)
        register_nav("稽核紀錄", "audit_log", visible=access.is_staff, order=95)
        # "my roles" (and, for staff, how many people wait for one): names of schools, districts
        # and divisions, and the count of people without a role (a login saves the user too)
        fragments.changed_on_save(
            PEOPLE_COUNTER, *(self.get_model(n) for n in ("User", "Membership", "School",
                                                          "District", "Division"))
        )  # fmt: skip
        from .checklist import checklist_block

        # not cached: a handful of exists() for bureau staff only, until the basics are in place
        register_home_block(checklist_block, order=1)
        register_nav("學校名冊", "schools_import", visible=access.is_staff, order=88)
        register_home_block(
            roles_block, order=90, counters=(PEOPLE_COUNTER,), vary=vary_by_roles_and_day
        )


def _speak_chinese():
    """What Django and its libraries show in English, in the users' words: the admin's
    「Django 管理」 header and the lockout app's section name. (Every select's empty choice,
    Django's 「---------」, reads 請選擇 by templates/django/forms/widgets/select_option.html.)"""
    from django.apps import apps
    from django.contrib import admin

    admin.site.site_header = "九大分區資訊組長社群 網站管理"
    admin.site.site_title = "資訊組長社群網站管理"
    admin.site.index_title = "網站管理"
    if apps.is_installed("axes"):
        apps.get_app_config("axes").verbose_name = "登入失敗與鎖定"


def _describe_audit_codes():
    from . import audit
    from .checklist import MAIL_TESTED
    from .models import Role

    audit.describe(
        actions={
            "access.refused": "拒絕存取",
            "login.success": "登入成功",
            "login.failure": "登入失敗",
            "login.lockout": "登入失敗次數過多，暫時鎖定",
            "login.unlocked": "解除登入鎖定",
            "login.oidc_refused": "單一簽入被拒",
            "invitation.created": "發出邀請",
            "invitation.resent": "重寄邀請",
            "invitation.revoked": "撤銷邀請",
            "invitation.accepted": "接受邀請",
            "invitation.refused": "邀請連結無效",
            "portal.bootstrapped": "建立第一位系統管理員",
            "portal.job_retried": "重試背景工作",
            "portal.schools_imported": "匯入學校名冊",
            MAIL_TESTED: "寄送測試信",
        },
        details={
            "reason": "原因", "method": "方式", "school": "學校", "role": "角色",
            "locked": "已鎖定", "accepted": "郵件伺服器已收下", "created": "新增",
            "updated": "更新", "districts_created": "新增分區", "title": "標題",
            "items": "項目", "fields": "欄位", "old": "原為", "new": "改為", "kind": "類別",
        },
        values={
            "method": {"GET": "開啟頁面", "HEAD": "開啟頁面", "POST": "送出表單"},
            "role": dict(Role.choices),
        },
    )  # fmt: skip
