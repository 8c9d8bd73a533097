"""manage.py restore FILE --yes: replaces the database and the uploaded files (`make restore`).
Stop web, workers and beat first."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.operations import BackupError, backup_restore


class Command(BaseCommand):
    help = "用備份檔取代目前的資料庫與上傳的檔案（請先停止 web、worker 與 beat）。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="確定要覆蓋目前的資料")

    def handle(self, *args, file, yes, **options):
        if not yes:
            raise CommandError("還原會覆蓋目前所有資料與上傳的檔案；確定的話請加上 --yes。")
        try:
            manifest = backup_restore(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"已還原 {file}（備份時間 {manifest.get('created_at', '?')}）")
        )
