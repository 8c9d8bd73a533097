"""Nothing of a draft meeting reaches anyone but bureau staff until it is published.

The content leak check. The next meeting is drafted the way the bureau does it (the next meeting
of /tracking/meetings/new/, its header, report, motions – one whose 決議 opens a tracked item –,
attachments, decisions on the carried items, a 辦理情形 on the new item), with a marked string in
every field. Then every URL pattern of meetings/, tracking/ and the home page, with the real ids
and case numbers of the world (every combination), is fetched as each role that is not bureau
staff – after bureau staff fetched them, so the caches hold staff renderings – together with the
lists' filters and searches, the feeds under each person's own key and the e-mails sent to them:
none may contain a mark. Members also try every POST of the draft's objects (subscribing to the
new item among them) before the bureau posts its 辦理情形, so a subscription would mail it.

Then the minutes are published, and the marks must appear where members read them (the same
pages, so the caches must have moved too, and the publication e-mail): the check can fail.

The check runs twice: for a draft the bureau has not announced, and for one it has (已公告: the
name, time and place of the next meeting are told in the calendar and on the home page, and
nothing else of it).
"""

import io
import itertools
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import rocdate

from .matrix import portal_urls
from .world import PDF

pytestmark = pytest.mark.django_db

MEMBER_ROLES = ["anonymous", "coordinator", "other_coordinator", "convener"]
MEETINGS_NS, TRACKING_NS = "meetings:", "tracking:"

# One mark per field of the draft: unique, at the start of the text (lists truncate), and
# unchanged by HTML, XML or iCalendar escaping.
MARKS = {
    key: f"ZQ{n:02d}{key}"
    for n, key in enumerate(
        [
            "title", "place", "chair", "recorder", "attendance", "remarks", "report", "subreport",
            "motion", "explanation", "resolution", "proposer", "extempore", "extresolution",
            "attachment", "filename", "current", "decision", "closing", "update",
        ]
    )
}  # fmt: skip
MARK_PREFIX = "ZQ"


# what an announced draft tells everyone
ANNOUNCED = {"title", "place"}


@dataclass
class Draft:
    meeting: object
    new_case_no: str
    reviews: list = field(default_factory=list)
    told: set = field(default_factory=set)  # the marks members may see before publication


def _draft_date(Meeting):
    latest = Meeting.objects.order_by("-held_on").values_list("held_on", flat=True).first()
    return max(latest, timezone.localdate()) + timedelta(days=35)


@pytest.fixture(params=["unannounced", "announced"])
def draft(request, world, django_capture_on_commit_callbacks):
    """The next meeting, drafted with a mark in every field (and announced, or not)."""
    from meetings import services as meetings
    from meetings.models import Meeting, Motion
    from portal.models import Division
    from tracking import services as tracking
    from tracking.models import Review, TrackedItem

    bureau = world.people["bureau"]
    m = MARKS
    with django_capture_on_commit_callbacks(execute=True):
        meeting, carried = tracking.meeting_create_next(
            held_on=_draft_date(Meeting), title=m["title"], place=m["place"], user=bureau
        )
        meetings.meeting_update(
            meeting=meeting, user=bureau,
            changes={"chair": m["chair"], "recorder": m["recorder"],
                     "attendance_note": m["attendance"], "chair_remarks": m["remarks"],
                     "announced": request.param == "announced"},
        )  # fmt: skip
        division = Division.objects.order_by("position", "id").first()
        report = meetings.report_item_add(
            meeting=meeting, user=bureau, division=division, text=m["report"]
        )
        meetings.report_item_add(
            meeting=meeting, user=bureau, division=division, text=m["subreport"], parent=report
        )
        motion = meetings.motion_add(
            meeting=meeting, user=bureau, kind=Motion.Kind.PROPOSAL,
            subject=f"{m['motion']}：校園網路設備汰換，提請討論。", explanation=m["explanation"],
            resolution=f"{m['resolution']}，本案列為下次會議追蹤列管事項。", proposer=m["proposer"],
        )  # fmt: skip
        meetings.motion_add(
            meeting=meeting, user=bureau, kind=Motion.Kind.EXTEMPORE,
            subject=f"{m['extempore']}：臨時動議", resolution=m["extresolution"],
        )  # fmt: skip
        meetings.attachment_add(
            meeting=meeting, user=bureau, title=m["attachment"], motion=motion,
            upload=SimpleUploadedFile(f"{m['filename']}.pdf", PDF, "application/pdf"),
        )  # fmt: skip
        reviews = list(Review.objects.filter(meeting=meeting).select_related("item"))
        assert len(reviews) >= 2, "the draft carries the open items of the published minutes"
        tracking.review_decide(
            review=reviews[0], decision="continue", user=bureau,
            current_status=m["current"], resolution=m["decision"],
        )  # fmt: skip
        tracking.review_decide(
            review=reviews[1], decision="close", user=bureau, resolution=m["closing"]
        )
    new_item = TrackedItem.objects.get(origin_motion=motion)
    assert m["motion"] in new_item.subject
    return Draft(
        meeting=meeting,
        new_case_no=new_item.case_no,
        reviews=reviews,
        told=ANNOUNCED if request.param == "announced" else set(),
    )


# --- what each role can reach ---------------------------------------------------------------------


def _feed_key(user):
    from meetings.models import FeedKey

    if user is None:
        return "no-such-key"
    return FeedKey.objects.get_or_create(user=user, defaults={"key": f"key-{user.username}"})[0].key


def _pools(world, draft, user):
    """Every value each URL argument takes: the draft's objects and the published meeting's."""
    from meetings.models import Attachment, Motion, ReportItem
    from portal.models import BackgroundJob
    from tracking.models import Review, TrackedItem

    meeting, published = draft.meeting, world.published
    return {
        "pk": [meeting.pk, published.pk],
        "meeting_id": [meeting.pk, published.pk],
        "item_pk": [*ReportItem.objects.filter(meeting__in=[meeting, published])
                    .values_list("pk", flat=True)],
        "motion_pk": [*Motion.objects.filter(meeting__in=[meeting, published])
                      .values_list("pk", flat=True)],
        "attachment_pk": [*Attachment.objects.filter(meeting__in=[meeting, published])
                          .values_list("pk", flat=True)],
        "action": ["up", "delete"],
        "to": ["accepted", "submitted"],
        "key": [_feed_key(user)],
        "job_pk": [*BackgroundJob.objects.values_list("pk", flat=True)[:1]],
        "case_no": [*TrackedItem.objects.values_list("case_no", flat=True)],
        "review_pk": [*Review.objects.filter(meeting__in=[meeting, published])
                      .values_list("pk", flat=True)],
    }  # fmt: skip


def _urls(world, draft, user):
    """Every path of meetings/, tracking/ and the home page, for every combination of the world's
    ids, plus the lists' filters and searches."""
    pools = _pools(world, draft, user)
    paths = []
    for url in portal_urls():
        name = url.name or ""
        if name != "home" and not name.startswith((MEETINGS_NS, TRACKING_NS)):
            continue
        names = [("review_pk" if name == "tracking:decide" and k == "pk" else k)
                 for k in url.kwargs]  # fmt: skip
        for values in itertools.product(*(pools[n] for n in names)):
            paths.append(reverse(name, kwargs=dict(zip(url.kwargs, values, strict=True))))
    year = draft.meeting.held_on.year
    lists = [
        f"{reverse('tracking:list')}?{q}"
        for q in ("state=", "state=open", "state=closed", f"year={year}", "q=ZQ", "stale=on")
    ]
    lists += [f"{reverse('tracking:export')}?state="]
    lists += [f"{reverse('meetings:list')}?year={rocdate.roc_year(draft.meeting.held_on)}"]
    # a search page repeats its query: search for each mark without its prefix, so only a hit
    # shows the whole mark
    lists += [f"{reverse('meetings:search')}?q={q}"
              for q in [MARK_PREFIX, *(mark[len(MARK_PREFIX):] for mark in MARKS.values())]]  # fmt: skip
    return paths + lists


def _text(response):
    """Everything a response says: headers that carry content, the body, and inside a .docx or
    .xlsx every file of the archive."""
    parts = [response.get("Location", ""), response.get("Content-Disposition", "")]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    else:
        parts.append(body.decode("utf-8", "replace"))
    return "\n".join(parts)


def _client(world, role):
    client = Client()
    user = world.people.get(role)
    if user is not None:
        client.force_login(user)
    return client, user


def _marks_in(text, told=frozenset()):
    return sorted(key for key, mark in MARKS.items() if mark in text and key not in told)


def _fetch_all(world, draft, role, told=frozenset()):
    """{request: marks found but not `told`} for every GET of the role's reach; the pages it was
    given."""
    client, user = _client(world, role)
    found, pages = {}, {}
    for path in _urls(world, draft, user):
        response = client.get(path)
        assert response.status_code < 500, f"GET {path} as {role}: {response.status_code}"
        text = _text(response)
        pages[path] = text
        if marks := _marks_in(text, told):
            found[f"{role} GET {path} ({response.status_code})"] = marks
    return found, pages


def _post_all(world, draft, role):
    """Every POST a member could send about the draft's objects (nothing is sent but the CSRF-free
    test client's empty form): what the answers show."""
    client, user = _client(world, role)
    found = {}
    for path in _urls(world, draft, user):
        if "?" in path:
            continue
        response = client.post(path, {})
        assert response.status_code < 500, f"POST {path} as {role}: {response.status_code}"
        if marks := _marks_in(_text(response), draft.told):
            found[f"{role} POST {path} ({response.status_code})"] = marks
    return found


def _member_mail(world, told=frozenset()):
    addresses = {world.people[r].email for r in MEMBER_ROLES if r in world.people}
    found = {}
    for n, message in enumerate(mail.outbox):
        if not addresses & set(message.to + message.cc + message.bcc):
            continue
        text = "\n".join([message.subject, message.body,
                          *(c for c, _ in getattr(message, "alternatives", []))])  # fmt: skip
        if marks := _marks_in(text, told):
            found[f"e-mail {n} to {message.to}: {message.subject}"] = marks
    return found


def test_nothing_of_a_draft_reaches_members_until_it_is_published(
    world, draft, mailoutbox, django_capture_on_commit_callbacks
):
    from meetings import services as meetings
    from tracking import services as tracking
    from tracking.models import TrackedItem

    bureau = world.people["bureau"]
    leaks = {}
    for role in MEMBER_ROLES:  # subscribing to the new item among them
        leaks |= _post_all(world, draft, role)
    with django_capture_on_commit_callbacks(execute=True):
        tracking.status_update_post(
            item=TrackedItem.objects.get(case_no=draft.new_case_no), user=bureau,
            text=MARKS["update"],
        )  # fmt: skip
        tracking.reminders_send(today=draft.meeting.held_on - timedelta(days=3))

    staff_found, _ = _fetch_all(world, draft, "bureau")  # the caches now hold staff pages
    staff_marks = {m for marks in staff_found.values() for m in marks}
    assert staff_marks == set(MARKS), (
        f"bureau staff see the whole draft: {set(MARKS) - staff_marks}"
    )

    before = {}
    for role in MEMBER_ROLES:
        found, pages = _fetch_all(world, draft, role, draft.told)
        leaks |= found
        before[role] = pages
    leaks |= _member_mail(world, draft.told)
    assert not leaks, "the draft reached people who are not bureau staff:\n" + "\n".join(
        f"{where}: {marks}" for where, marks in sorted(leaks.items())
    )

    if draft.told:  # the announcement did reach members
        calendar = before["coordinator"][
            reverse("meetings:calendar", args=[_feed_key(world.people["coordinator"])])
        ]
        assert all(MARKS[key] in calendar for key in draft.told)

    # Published: the same pages (kept in the caches a moment ago) now show it to members.
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_publish(meeting=draft.meeting, user=bureau)
    found, pages = _fetch_all(world, draft, "coordinator")
    seen = {m for marks in found.values() for m in marks}
    assert seen == set(MARKS), f"published, yet members do not see {set(MARKS) - seen}"
    assert MARKS["motion"] in pages[reverse("tracking:list")]  # the new item is open
    assert MARKS["title"] in pages[reverse("home")]  # the latest minutes
    assert MARKS["current"] in pages[reverse("tracking:item", args=[draft.reviews[0].item.case_no])]
    assert MARKS["update"] in pages[reverse("tracking:feed")]
    notices = _member_mail(world)
    assert any("title" in marks for marks in notices.values()), "the publication e-mail names it"
