"""python manage.py load_demo – the demo data of every app, safe to run again."""

from django.core.management.base import BaseCommand

from portal.demo import app_demos


class Command(BaseCommand):
    help = (
        "載入示範資料（分區、學校、示範帳號、會議紀錄、調查表、虛擬機政策）。重複執行不會改變資料。"
    )

    def handle(self, *args, **options):
        for _label, load in app_demos():
            load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("示範資料已就緒。"))
