"""Demo data: the seed's winter-camp survey (捌、一、(五)) with its rules, its example row
filed by 新店國小, and its link from that item of the seed minutes. Idempotent: the survey is
found by title, the response by survey + school, the link by meeting + survey.

The seed asked for answers by 108/9/23. A demo survey that closed years ago could not be tried,
so when the demo is loaded after that date the survey stays open for 60 days from loading; the
rules (winter vacation 109/1/21–2/10, 除夕及春假 109/1/23–1/29) are the seed's.
"""

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from meetings import services as meetings_services
from meetings.models import Attachment, Meeting, ReportItem
from portal.models import School

from . import services
from .models import Blackout, Offer, Response, Status, StatusChange, Submission, Survey

TITLE = "新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"
INSTRUCTIONS = (
    "本科預計辦理 FUN Coding 活動（技能研習），有意願辦理之學校請於期限前填報；活動計畫及經費概算表"
    "繳交時程另行通知。另配合本局性平政策，鼓勵學校辦理女性專班或女性優先報名的營隊。\n"
    "表格不足請自行增列；不辦理的學校請按「本校不辦理（無意願）」。"
)


def _announcement():
    """The seed meeting (108/9/10) and its item (五) if meetings' demo created them."""
    meeting = Meeting.objects.filter(held_on=date(2019, 9, 10)).first()
    if meeting is None:
        return None, None
    item = ReportItem.objects.filter(
        meeting=meeting, text__contains="寒假青少年休閒育樂活動"
    ).first()
    return meeting, item


def _aware(*args):
    return timezone.make_aware(datetime(*args))


@transaction.atomic
def load(stdout=None):
    meeting, item = _announcement()
    now = timezone.now()
    seed_deadline = _aware(2019, 9, 23, 23, 59)
    closes_at = (
        seed_deadline
        if now < seed_deadline
        # 17:00 in Taipei: replacing the hour of a UTC time would close at 上午 1 時
        else timezone.localtime(now + timedelta(days=60)).replace(
            hour=17, minute=0, second=0, microsecond=0
        )
    )
    survey, created = Survey.objects.get_or_create(
        title=TITLE,
        defaults={
            "instructions": INSTRUCTIONS,
            "meeting": meeting,
            "report_item": item,
            "opens_at": _aware(2019, 9, 10, 12, 0),
            "closes_at": closes_at,
            "contact": "呂曉昫助理員 apple6@apps.ntpc.edu.tw",
            "school_year": 108,
            "categories": "技能研習\n營隊\n體驗活動",
            "window_label": "寒假",
            "activity_starts_on": date(2020, 1, 21),
            "activity_ends_on": date(2020, 2, 10),
            "registration_before_activity": True,
            "reminder_days_before": 3,
            "created_by": get_user_model().objects.filter(username="bureau").first(),
        },
    )
    if created:
        Blackout.objects.create(
            survey=survey,
            label="除夕及春假",
            starts_on=date(2020, 1, 23),
            ends_on=date(2020, 1, 29),
        )
        blackouts = [(b.label, b.starts_on, b.ends_on) for b in survey.blackouts.all()]
        services.table_store(survey, *services.winter_table(survey, blackouts))
    elif meeting is not None and survey.meeting_id is None:
        survey.meeting, survey.report_item = meeting, item
        survey.save(update_fields=["meeting", "report_item"])

    school = School.objects.filter(name="新店國小").first()
    if school is not None and not Response.objects.filter(survey=survey, school=school).exists():
        coordinator = get_user_model().objects.filter(username="coordinator").first()
        response = Response.objects.create(
            survey=survey, school=school, status=Status.SUBMITTED, submitted_at=now
        )
        Offer.objects.create(
            response=response,
            position=1,
            values={
                "category": "技能研習",
                "school": school.name,
                "course_name": "FUN Coding (KODU+RPG)",
                "activity": {"start": "2020-02-03", "end": "2020-02-04"},
                "venue": "新店國小",
                "fee": 0,
                "registration": {"start": "2019-12-25", "end": "2020-01-03"},
                "grades": {"from": 4, "to": 6, "gender": "girls_only"},
                "capacity": 20,
            },
            category="技能研習",
            course_name="FUN Coding (KODU+RPG)",
            activity_starts_on=date(2020, 2, 3),
            activity_ends_on=date(2020, 2, 4),
            venue="新店國小",
            fee=0,
            registration_starts_on=date(2019, 12, 25),
            registration_ends_on=date(2020, 1, 3),
            grade_from=4,
            grade_to=6,
            gender="girls_only",
            capacity=20,
        )
        Submission.objects.create(
            response=response, number=1, by=coordinator, at=now,
            snapshot=services.snapshot_of(response.offers.all()),
        )  # fmt: skip
        StatusChange.objects.create(
            response=response, event=StatusChange.Event.SUBMITTED, old_status=Status.NONE,
            new_status=Status.SUBMITTED, by=coordinator, at=now, note="示範資料：第 1 版",
        )  # fmt: skip
    if stdout is not None:
        stdout.write(f"調查表：{survey.title}（{'新建' if created else '已存在'}）")
    _link_from_minutes(survey, meeting, item, stdout)
    return survey


def _link_from_minutes(survey, meeting, item, stdout):
    """The survey as an attachment of the item that announced it. Made directly rather than
    through meetings' attachment_add: the seed minutes themselves announce this survey, so it
    is part of the original record, not a correction of published minutes."""
    if meeting is None or survey.minutes_links.filter(meeting=meeting).exists():
        return
    last = Attachment.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
    Attachment.objects.create(
        meeting=meeting, report_item=item, linked=survey, title=survey.title,
        position=(last or 0) + 1, added_by=meeting.created_by,
    )  # fmt: skip
    meetings_services.search_index_rebuild(meeting=meeting)  # the survey's title is searchable
    if stdout is not None:
        stdout.write(f"已在會議紀錄連結調查表：{survey.title}")
