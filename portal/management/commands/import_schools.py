"""manage.py import_schools 學校名冊.xlsx [--dry-run]: the same import as the 學校名冊 page."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.organisation import ImportRefused, schools_import


class Command(BaseCommand):
    help = "從教育局的學校名冊（.xlsx 或 .csv）匯入分區與學校；有任何錯誤時整個檔案都不匯入。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="只檢查與試算，不儲存")

    def handle(self, *args, file, dry_run, **options):
        if not file.is_file():
            raise CommandError(f"找不到檔案 {file}")
        try:
            result = schools_import(name=file.name, data=file.read_bytes(), dry_run=dry_run)
        except ImportRefused as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"未匯入：{file.name} 有 {len(exc.errors)} 個問題。") from exc
        self.stdout.write(self.style.SUCCESS(result.summary()))
