"""The first step on an empty server: the first bureau administrator, then what to do next.

    manage.py bootstrap                                   # asks for each value
    manage.py bootstrap --username it-admin --email it@ntpc.edu.tw --full-name 王大明 \
        --password-from-env PORTAL_BOOTSTRAP_PASSWORD     # no questions (scripts, CI)

Refuses when an administrator exists already: a second run never makes a second one silently.
"""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from portal.services import bootstrap_admin, bootstrap_done

NEXT_STEPS = """
下一步：
  1. 匯入分區與學校：python manage.py import_schools 學校名冊.xlsx --dry-run（確認無誤後去掉 --dry-run）
     或登入後到「學校名冊」頁上傳。
  2. 測試寄信：登入後到「人員與邀請」→「測試寄信」，確認 SMTP 伺服器接受本站的信。
  3. 邀請各校資訊組長、分區代表與教育局同仁：
     python manage.py send_invitations 邀請名單.xlsx --by {username}，或到「邀請名單」頁上傳。
  4. OpenID 登入：在 .env 設定 OIDC_…，或設 PORTAL_OIDC_OFF=true 只用邀請帳號。
  5. 虛擬機房：到「虛擬機房」→ 收集器權杖，為收集器發出權杖。
首頁的「開站檢查清單」會列出尚未完成的項目。
"""


class Command(BaseCommand):
    help = "建立第一位系統管理員（只能執行一次），並列出接下來的步驟。"

    def add_arguments(self, parser):
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--full-name", default="")
        parser.add_argument(
            "--password-from-env",
            metavar="VARIABLE",
            help="從這個環境變數讀密碼（不要把密碼寫在命令列上）",
        )
        parser.add_argument("--noinput", "--no-input", action="store_true", dest="noinput")

    def handle(self, *args, username, email, full_name, password_from_env, noinput, **options):
        existing = bootstrap_done()
        if existing:
            raise CommandError(
                f"已經設定過：系統管理員 {existing} 已存在，bootstrap 不會再建立一位。"
                "要增加管理員，請登入管理介面，或用 manage.py createsuperuser。"
            )
        interactive = not noinput and password_from_env is None
        username = username or (self._ask("帳號") if interactive else None)
        email = email or (self._ask("電子郵件") if interactive else None)
        if interactive and not full_name:
            full_name = input("姓名（可留白）：").strip()
        if not username or not email:
            raise CommandError("請指定 --username 與 --email。")
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"電子郵件「{email}」格式不正確。") from exc
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"帳號「{username}」已經存在。")
        if password_from_env:
            password = os.environ.get(password_from_env, "")
            if not password:
                raise CommandError(f"環境變數 {password_from_env} 沒有設定密碼。")
        elif interactive:
            password = getpass.getpass("密碼：")
            if password != getpass.getpass("再輸入一次密碼："):
                raise CommandError("兩次輸入的密碼不同。")
        else:
            raise CommandError("請用 --password-from-env 指定存放密碼的環境變數。")
        user_model = get_user_model()
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("密碼不符合規則：" + "；".join(exc.messages)) from exc
        user = bootstrap_admin(
            username=username, email=email, full_name=full_name, password=password
        )
        self.stdout.write(self.style.SUCCESS(f"已建立系統管理員 {user.username}（{user.email}）。"))
        self.stdout.write(NEXT_STEPS.format(username=user.username))

    def _ask(self, label):
        value = input(f"{label}：").strip()
        if not value:
            raise CommandError(f"{label}不可空白。")
        return value
