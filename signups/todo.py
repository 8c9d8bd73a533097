"""本週待辦 (portal/todo.py) from surveys: a coordinator's surveys still to answer (days left) and
answers sent back (with the reason); a convener's district schools that have not answered; for
bureau staff, the open surveys that some schools have not answered."""

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from portal import access
from portal.models import School
from portal.rocdate import format_short_datetime
from portal.todo import Todo

from .models import ANSWERED, Response, Status
from .selectors import open_surveys

SOON_DAYS = 3  # a deadline this close is shown as a warning and before other news
NAMES_SHOWN = 3  # a convener's non-filers named in the line; the rest counted


def todos(request):
    user = request.user
    roles = access.roles_of(user)
    if not roles.has_any:
        return []
    now = timezone.now()
    if roles.is_staff:
        return _bureau(now)
    found = []
    if roles.coordinator_school_ids:
        found += _coordinator(roles.coordinator_school_ids, now)
    if roles.convener_district_ids:
        found += _convener(roles.convener_district_ids, roles.coordinator_school_ids, now)
    return found


def _days_left(survey, now):
    return (timezone.localtime(survey.closes_at).date() - timezone.localtime(now).date()).days


def _deadline(survey, now):
    days = _days_left(survey, now)
    when = "今天截止" if days <= 0 else f"還有 {days} 天"
    return f"{when}（{_local(survey.closes_at)} 截止）"


def _local(moment):
    return format_short_datetime(timezone.localtime(moment))


def _urgency(days):
    return 5 + max(days, 0) if days <= SOON_DAYS else 30 + min(days, 60)


def _coordinator(school_ids, now):
    surveys = list(open_surveys(now))
    responses = list(
        Response.objects.filter(school_id__in=school_ids)
        .filter(Q(survey__in=surveys) | Q(status=Status.RETURNED, reopened_until__gt=now))
        .select_related("survey", "school")
    )
    by_key = {(r.survey_id, r.school_id): r for r in responses}
    many = len(school_ids) > 1
    schools = {s.pk: s for s in School.objects.filter(pk__in=school_ids).select_related("district")}
    names = {pk: s.name for pk, s in schools.items()} if many else {}
    found = []
    for r in responses:  # sent back: what to fix, whether or not the survey is still open
        if r.status == Status.RETURNED and r.is_editable(now):
            until = max(
                t for t in (r.reopened_until, r.survey.closes_at if r.survey.is_open(now) else None)
                if t is not None
            )  # fmt: skip
            found.append(
                _entry(
                    r.survey,
                    r.school_id,
                    f"修改被退回的「{r.survey.title}」",
                    f"退回原因：{r.return_comment[:60]}；{_local(until)} 前可修改",
                    label="退回",
                    tone="bad",
                    urgency=3,
                    school=r.school.name if many else "",
                )
            )
    for survey in surveys:
        days = _days_left(survey, now)
        for school_id in sorted(school_ids):
            if school_id in schools and not survey.asks(schools[school_id]):
                continue  # not asked: another level, district, or a district's convener files it
            r = by_key.get((survey.pk, school_id))
            status = r.status if r else Status.NONE
            if status == Status.RETURNED:
                continue  # listed above, with the reason
            if status in ANSWERED:
                if r.has_pending_edits:
                    found.append(
                        _entry(survey, school_id, f"送出「{survey.title}」的修改",
                               "修改尚未送出，教育局看到的仍是上次送出的版本；"
                               + _deadline(survey, now),
                               label="未送出", tone="warn", urgency=_urgency(days),
                               school=names.get(school_id, ""))
                    )  # fmt: skip
                continue
            found.append(
                _entry(
                    survey,
                    school_id,
                    f"填報「{survey.title}」",
                    ("已存草稿，尚未送出；" if status == Status.DRAFT else "")
                    + _deadline(survey, now),
                    label="截止",
                    tone="warn" if days <= SOON_DAYS else "info",
                    urgency=_urgency(days),
                    school=names.get(school_id, ""),
                )
            )
    return found


def _entry(survey, school_id, text, detail, *, label, tone, urgency, school=""):
    return _todo(
        text + (f"（{school}）" if school else ""),
        reverse("signups:file", args=[survey.pk, school_id]),
        detail,
        label,
        tone,
        urgency,
    )


def _todo(text, url, detail, label, tone, urgency):
    return Todo(text=text, url=url, detail=detail, label=label, tone=tone, urgency=urgency)


def _district_answers(district_ids, own_school_ids, surveys, now):
    """A district-filed survey the district has not answered yet: the convener files it (unless
    they coordinate the convener school, whose line the coordinator's part already gives)."""
    if not surveys:
        return []
    conveners = list(
        School.objects.filter(district_id__in=district_ids, district__convener_school=F("pk"))
        .exclude(pk__in=own_school_ids)
        .select_related("district")
    )
    responses = {
        (r.survey_id, r.school_id): r
        for r in Response.objects.filter(survey__in=surveys, school__in=conveners)
    }
    found = []
    for survey in surveys:
        days = _days_left(survey, now)
        for school in conveners:
            if not survey.asks(school):
                continue
            r = responses.get((survey.pk, school.pk))
            status = r.status if r else Status.NONE
            if status in ANSWERED and not r.has_pending_edits:
                continue
            if status == Status.RETURNED:
                detail = f"退回原因：{r.return_comment[:60]}；"
            elif status in ANSWERED:
                detail = "修改尚未送出，教育局看到的仍是上次送出的版本；"
            else:
                detail = "已存草稿，尚未送出；" if status == Status.DRAFT else ""
            detail += _deadline(survey, now)
            found.append(
                _entry(survey, school.pk, f"填報本分區的「{survey.title}」", detail,
                       label="退回" if status == Status.RETURNED else "本分區",
                       tone="bad" if status == Status.RETURNED
                       else "warn" if days <= SOON_DAYS else "info",
                       urgency=3 if status == Status.RETURNED else _urgency(days),
                       school=school.district.name if len(conveners) > 1 else "")
            )  # fmt: skip
    return found


def _convener(district_ids, own_school_ids, now):
    """Each open survey some of the district's schools have not answered (the convener's own
    school, if they coordinate one, is in the coordinator's lines); a district-filed survey the
    district has not answered."""
    every = list(open_surveys(now))
    found = _district_answers(
        district_ids, own_school_ids, [s for s in every if s.by_district], now
    )
    surveys = [s for s in every if not s.by_district]
    schools = list(
        School.objects.filter(district_id__in=district_ids)
        .exclude(pk__in=own_school_ids)
        .order_by("code")
        .values_list("pk", "name")
    )
    if not schools or not surveys:
        return found
    answered = set(
        Response.objects.filter(
            survey__in=surveys, school_id__in=[pk for pk, _ in schools], status__in=ANSWERED
        ).values_list("survey_id", "school_id")
    )
    found = []
    for survey in surveys:
        missing = [name for pk, name in schools if (survey.pk, pk) not in answered]
        if not missing:
            continue
        named = "、".join(missing[:NAMES_SHOWN]) + (
            f" 等 {len(missing)} 所" if len(missing) > NAMES_SHOWN else ""
        )
        days = _days_left(survey, now)
        found.append(
            _todo(
                f"本分區 {len(missing)} 所學校尚未回覆「{survey.title}」",
                # a convener's survey page is the district view (signups.views.survey_detail)
                # unless they also file for one school, which takes them to its table
                reverse("signups:survey", args=[survey.pk]),
                f"{named}；已回覆 {len(schools) - len(missing)}/{len(schools)}；"
                + _deadline(survey, now),
                "本分區",
                "warn" if days <= SOON_DAYS else "muted",
                _urgency(days) + 5,
            )
        )
    return found


def _bureau(now):
    surveys = list(
        open_surveys(now).annotate(
            answered=Count("responses", filter=Q(responses__status__in=ANSWERED))
        )
    )
    if not surveys:
        return []
    every_school = School.objects.count()
    found = []
    for survey in surveys:
        # a district-filed survey waits for one answer per district, not for every school
        total = survey.districts().count() if survey.by_district else every_school
        missing = total - survey.answered
        if missing <= 0:
            continue
        days = _days_left(survey, now)
        found.append(
            _todo(
                f"「{survey.title}」尚有 {missing} "
                + ("個分區" if survey.by_district else "所學校")
                + "未回覆",
                reverse("signups:grid", args=[survey.pk]),
                f"已回覆 {survey.answered}/{total}；" + _deadline(survey, now),
                "未回覆",
                "warn" if days <= SOON_DAYS else "info",
                _urgency(days) + 5,
            )
        )
    return found
