"""manage.py send_invitations 邀請名單.xlsx --by USERNAME: the same as the 邀請名單 page."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal import access
from portal.organisation import ImportRefused, invitations_send


class Command(BaseCommand):
    help = "依名單（電子郵件＋學校代碼／分區／組別）寄出邀請；已有等待中邀請的人不重寄。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--by", required=True, help="邀請人（教育局人員或管理員的帳號）")

    def handle(self, *args, file, by, **options):
        if not file.is_file():
            raise CommandError(f"找不到檔案 {file}")
        inviter = get_user_model().objects.filter(username=by).first()
        if inviter is None or not access.is_staff(inviter):
            raise CommandError(f"「{by}」不是教育局人員或系統管理員。")
        try:
            result = invitations_send(name=file.name, data=file.read_bytes(), invited_by=inviter)
        except ImportRefused as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"未寄出：{file.name} 有 {len(exc.errors)} 個問題。") from exc
        self.stdout.write(self.style.SUCCESS(result.summary()))
