"""Demo data: the seed minutes (108 年度 9 月份聯席會議), imported and published. Idempotent.
(signups/' demo links its winter-camp survey from the item that announced it, 捌、一、(五).)"""

from pathlib import Path

from django.contrib.auth import get_user_model

from . import importer, services
from .models import Meeting

SEED = Path(__file__).resolve().parent / "seed" / "108-09.txt"


def load(stdout=None):
    services.default_series()
    text = SEED.read_text(encoding="utf-8")
    parsed = importer.parse(text)
    existing = Meeting.objects.filter(held_on=parsed.held_on, title=parsed.title).first()
    if existing is not None:
        if stdout is not None:
            stdout.write(f"會議紀錄已存在：{existing.title}（略過）")
        return existing
    user = get_user_model().objects.filter(username="bureau").first()
    meeting = services.meeting_import(text=text, user=user, publish=True)
    if stdout is not None:
        stdout.write(
            f"已匯入並發布會議紀錄：{meeting.title}（{len(meeting.import_warnings)} 則提醒）"
        )
    return meeting
