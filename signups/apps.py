from django.apps import AppConfig


class SignupsConfig(AppConfig):
    name = "signups"
    verbose_name = "調查填報"

    def ready(self):
        from portal import audit

        _describe_audit_codes(audit)
        from django.apps import apps

        from meetings import hooks
        from portal import access, fragments
        from portal.navigation import register_home_block, register_nav, vary_by_roles_and_minute
        from portal.todo import register_todo

        from . import todo
        from .home import home_block
        from .selectors import GRID_COUNTER

        Survey = self.get_model("Survey")
        # minutes link to surveys (the item that announced one); a survey's title and address
        # show in the minutes
        hooks.register_link_kind(
            hooks.LinkKind(
                name="survey",
                model=Survey,
                label="調查表",
                note="線上調查表",
                choices=lambda: Survey.objects.order_by("-opens_at", "-id"),
                help_text="調查填報裡的調查表；資訊組長點連結即可填報。",
            )
        )
        hooks.register_minutes_models(Survey)

        fragments.changed_on_save(
            GRID_COUNTER,
            # not Offer: every change of a school's rows saves its Response too (offers_save, the
            # admin), and receivers on Offer would make each table save fetch and signal every
            # deleted row one by one
            *(self.get_model(name) for name in ("Survey", "Response", "StatusChange")),
            apps.get_model("portal", "School"),
            apps.get_model("portal", "District"),
        )

        register_nav("調查填報", "signups:list", visible=access.has_role, order=40)
        # days left change at midnight and a survey closes at its minute: vary by the minute
        register_todo(todo.todos, order=40, counters=(GRID_COUNTER,), vary=vary_by_roles_and_minute)
        register_home_block(
            home_block, order=40, counters=(GRID_COUNTER,), vary=vary_by_roles_and_minute
        )


def _describe_audit_codes(audit):
    audit.describe(
        actions={
            "signups.survey_created": "建立調查表",
            "signups.survey_edited": "修改調查表",
            "signups.survey_columns_edited": "修改調查表欄位",
            "signups.survey_audience": "設定填報對象",
            "signups.survey_published": "公布調查表",
            "signups.submitted": "送出填報",
            "signups.declined": "回覆無意願",
            "signups.returned": "退回填報",
            "signups.reopened": "重新開放填報",
            "signups.reminded": "寄送填報提醒",
            "signups.exported": "匯出填報資料",
            "signups.import_queued": "上傳填報檔案",
            "signups.imported": "匯入填報資料",
            "signups.import_refused": "填報檔案有誤，未匯入",
        },
        details={
            "version": "版本", "days": "延長天數", "schools": "已寄出學校數",
            "no_one": "沒有收件人的學校", "import_run": "匯入批次", "size": "檔案大小（位元組）",
            "rows": "列數", "problems": "問題",
        },
    )  # fmt: skip
