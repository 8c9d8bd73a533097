"""manage.py backup [FILE]: the database and the uploaded files in one .tar.gz (`make backup`)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.operations import BackupError, backup_write


class Command(BaseCommand):
    help = "把資料庫與上傳的檔案備份成一個 .tar.gz 檔。"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", type=Path)

    def handle(self, *args, file, **options):
        if file is None:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            file = Path(settings.BASE_DIR) / "var" / "backups" / f"portal-{stamp}.tar.gz"
        try:
            path = backup_write(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"已備份到 {path}（{path.stat().st_size:,} bytes）"))
