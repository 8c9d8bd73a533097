"""python manage.py import_minutes FILE [--publish] [--dry-run --json]"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings import importer, services


class Command(BaseCommand):
    help = "匯入會議紀錄（.txt 或 .docx）。--dry-run --json 只印出解析結果，不儲存。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="會議紀錄檔案（.txt 或 .docx），- 代表標準輸入")
        parser.add_argument("--publish", action="store_true", help="匯入後立即發布")
        parser.add_argument("--dry-run", action="store_true", help="只解析，不儲存")
        parser.add_argument("--json", action="store_true", help="以 JSON 印出解析結果")
        parser.add_argument("--user", help="記錄為匯入者的帳號（預設：無）")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            if path == "-":
                import sys

                data = sys.stdin.buffer.read()
            else:
                data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"無法讀取檔案 {path}：{exc.strerror}") from None
        try:
            text = importer.text_from_upload(data, path)
            if options["dry_run"]:
                result = importer.parse(text)
                if options["json"]:
                    self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
                else:
                    self._summary(result)
                return
            user = None
            if options["user"]:
                from django.contrib.auth import get_user_model

                user = get_user_model().objects.filter(username=options["user"]).first()
                if user is None:
                    raise CommandError(f"找不到帳號 {options['user']}")
            meeting = services.meeting_import(text=text, user=user, publish=options["publish"])
        except importer.ImportRejected as exc:
            raise CommandError(str(exc)) from None
        except services.MeetingImportError as exc:
            raise CommandError("無法匯入：\n" + "\n".join(f"- {p}" for p in exc.problems)) from None
        state = "已發布" if meeting.is_published else "草稿"
        self.stdout.write(f"已匯入「{meeting.title}」（編號 {meeting.pk}，{state}）")
        for w in meeting.import_warnings:
            where = w.get("where") or (f"第 {w['line']} 行" if w["line"] else "全文")
            self.stdout.write(f"  提醒（{where}）：{w['message']}")

    def _summary(self, result):
        self.stdout.write(f"會議名稱：{result.title}")
        self.stdout.write(
            f"日期：{result.held_on}  開始：{result.start_time}  散會：{result.adjourned_time}"
        )
        self.stdout.write(f"段落：{'、'.join(h for _k, h, _l in result.top_sections)}")
        self.stdout.write(
            f"業務報告項目 {result.item_count} 則、提案 {len(result.motions)} 案、"
            f"追蹤列管 {len(result.tracked_items)} 件、新列管 {len(result.new_tracked_items)} 件"
        )
        for w in result.warnings:
            self.stdout.write(f"  提醒（{result.where(w.line) or '全文'}）：{w.message}")
