"""python manage.py load_demo – the demo data of every app, safe to run again."""

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand

# Order matters: meetings before tracking and signups, which link to the seed meeting.
APPS = ["portal", "meetings", "tracking", "signups", "vmquota"]


class Command(BaseCommand):
    help = (
        "載入示範資料（分區、學校、示範帳號、會議紀錄、調查表、虛擬機政策）。重複執行不會改變資料。"
    )

    def handle(self, *args, **options):
        for label in APPS:
            if not apps.is_installed(label):
                continue
            try:
                module = importlib.import_module(f"{label}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{label}.demo":
                    continue
                raise
            module.load(stdout=self.stdout)
        # The seed's report item 捌、一、(五) announces the winter-camp survey, which exists only
        # after signups' demo has run.
        if apps.is_installed("meetings"):
            from meetings.demo import link_surveys

            link_surveys(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("示範資料已就緒。"))
