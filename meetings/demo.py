"""Demo data: the seed minutes (108 年度 9 月份聯席會議), imported and published, and the link
from 捌、一、(五) to the winter-camp survey that signups/' demo creates. Idempotent."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from . import importer, services
from .models import Attachment, Meeting, ReportItem

SEED = Path(__file__).resolve().parent / "seed" / "108-09.txt"
# 捌、一、(五) of the seed: 「…辦理109年度寒假青少年休閒育樂活動開辦調查…」
SURVEY_ITEM_TEXT = "寒假青少年休閒育樂活動"


def load(stdout=None):
    services.default_series()
    text = SEED.read_text(encoding="utf-8")
    parsed = importer.parse(text)
    existing = Meeting.objects.filter(held_on=parsed.held_on, title=parsed.title).first()
    if existing is not None:
        if stdout is not None:
            stdout.write(f"會議紀錄已存在：{existing.title}（略過）")
        link_surveys(stdout=stdout)  # a second load_demo: signups' survey exists by now
        return existing
    user = get_user_model().objects.filter(username="bureau").first()
    meeting = services.meeting_import(text=text, user=user, publish=True)
    if stdout is not None:
        stdout.write(
            f"已匯入並發布會議紀錄：{meeting.title}（{len(meeting.import_warnings)} 則提醒）"
        )
    link_surveys(stdout=stdout)
    return meeting


def _seed_meeting():
    parsed = importer.parse(SEED.read_text(encoding="utf-8"))
    return Meeting.objects.filter(held_on=parsed.held_on, title=parsed.title).first()


@transaction.atomic
def link_surveys(stdout=None):
    """Link the winter-camp survey from the seed's item 捌、一、(五), which announced it.

    Safe to call any number of times, and before signups' demo has run (it then does nothing):
    load_demo runs meetings before signups, so call this again after signups.demo.load().
    The link is made directly rather than through services.attachment_add: the seed minutes
    themselves announce this survey, so it is part of the original record, not a correction
    of published minutes. Returns the Attachment, or None."""
    from signups.models import Survey

    meeting = _seed_meeting()
    if meeting is None:
        return None
    item = ReportItem.objects.filter(meeting=meeting, text__contains=SURVEY_ITEM_TEXT).first()
    survey = (
        Survey.objects.filter(report_item=item).order_by("pk").first() if item is not None else None
    ) or Survey.objects.filter(title__contains=SURVEY_ITEM_TEXT).order_by("pk").first()
    if survey is None:
        return None
    existing = Attachment.objects.filter(meeting=meeting, survey=survey).first()
    if existing is not None:
        return existing
    last = Attachment.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
    attachment = Attachment.objects.create(
        meeting=meeting,
        report_item=item,
        survey=survey,
        title=survey.title,
        position=(last or 0) + 1,
        added_by=meeting.created_by,
    )
    services.search_index_rebuild(meeting=meeting)  # the survey's title is searchable too
    if stdout is not None:
        stdout.write(f"已在會議紀錄連結調查表：{survey.title}")
    return attachment
