"""Writes of the signups app: every state change goes through one function here, inside a
transaction, and leaves a `StatusChange` row (who, when, old, new, why)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal import audit

from .models import (
    Blackout,
    Offer,
    Reminder,
    Response,
    Status,
    StatusChange,
    Submission,
    Survey,
)
from .rules import format_grades, format_range


class SignupError(Exception):
    """A request the survey's state does not allow; the message is in Chinese."""


def response_get(*, survey, school, lock=False):
    """The school's response, created (未填) on first use."""
    response, _ = Response.objects.get_or_create(survey=survey, school=school)
    if lock:
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
    return response


def _change(response, *, new, event, by, note=""):
    old = response.status
    if new != old:
        response.status = new
        response.save(update_fields=["status", "updated_at"])
    return StatusChange.objects.create(
        response=response, event=event, old_status=old, new_status=new, by=by, note=note
    )


def _require_editable(response, now=None):
    if not response.is_editable(now):
        if (now or timezone.now()) < response.survey.opens_at:
            raise SignupError("本調查尚未開放填報。")
        raise SignupError("本調查已截止，無法再修改；如需更正請洽教育局承辦人重新開放。")


def offers_save(*, response, rows, by, event=StatusChange.Event.SAVED):
    """Replace the school's rows with `rows` (OfferValues, in order). A response already sent
    becomes a draft again until it is resubmitted, so the bureau never consolidates rows the
    school has not confirmed."""
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        _require_editable(response)
        response.offers.all().delete()
        Offer.objects.bulk_create(
            [
                Offer(
                    response=response,
                    position=i,
                    category=v.category,
                    course_name=v.course_name,
                    activity_starts_on=v.activity[0],
                    activity_ends_on=v.activity[1],
                    venue=v.venue,
                    fee=v.fee,
                    registration_starts_on=v.registration[0],
                    registration_ends_on=v.registration[1],
                    grade_from=v.grades[0],
                    grade_to=v.grades[1],
                    gender=v.gender,
                    capacity=v.capacity,
                )
                for i, v in enumerate(rows, start=1)
            ]
        )
        if response.status != Status.DRAFT or event == StatusChange.Event.IMPORTED:
            _change(response, new=Status.DRAFT, event=event, by=by)
        else:
            response.save(update_fields=["updated_at"])
        return response


def snapshot_of(offers):
    return [
        {
            "category": o.category,
            "course_name": o.course_name,
            "activity": format_range(o.activity_starts_on, o.activity_ends_on),
            "venue": o.venue,
            "fee": o.fee,
            "registration": format_range(o.registration_starts_on, o.registration_ends_on),
            "grades": format_grades(o.grade_from, o.grade_to, o.gender),
            "capacity": o.capacity,
        }
        for o in offers
    ]


def _new_version(response, *, by, declined):
    number = (
        response.submissions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    return Submission.objects.create(
        response=response,
        number=number,
        by=by,
        declined=declined,
        snapshot=[] if declined else snapshot_of(response.offers.all()),
    )


def response_submit(*, response, by, request=None):
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        _require_editable(response)
        if not response.offers.exists():
            raise SignupError("尚未填寫任何課程；若貴校不辦理，請按「本校不辦理（無意願）」。")
        version = _new_version(response, by=by, declined=False)
        response.submitted_at = version.at
        response.return_comment = ""
        response.save(update_fields=["submitted_at", "return_comment", "updated_at"])
        _change(response, new=Status.SUBMITTED, event=StatusChange.Event.SUBMITTED, by=by,
                note=f"第 {version.number} 版")  # fmt: skip
        audit.record("signups.submitted", request=request, actor=by, target=response,
                     version=version.number)  # fmt: skip
        return version


def response_decline(*, response, by, request=None):
    """「本校不辦理」: counts as answered; the rows stay (a later change of mind keeps them)."""
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        _require_editable(response)
        version = _new_version(response, by=by, declined=True)
        response.submitted_at = version.at
        response.return_comment = ""
        response.save(update_fields=["submitted_at", "return_comment", "updated_at"])
        _change(response, new=Status.DECLINED, event=StatusChange.Event.DECLINED, by=by)
        audit.record("signups.declined", request=request, actor=by, target=response)
        return version


def response_return(*, response, by, comment, request=None):
    """The bureau sends an answer back with a reason; the school's coordinators are e-mailed and
    the school may edit again for a week even if the survey has closed."""
    comment = (comment or "").strip()
    if not comment:
        raise SignupError("請填寫退回原因，學校才知道要修改什麼。")
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        if response.status not in (Status.SUBMITTED, Status.DECLINED):
            raise SignupError("只能退回已送出或回覆無意願的填報。")
        response.return_comment = comment
        if not response.survey.is_open():
            response.reopened_until = timezone.now() + timedelta(days=7)
        response.save(update_fields=["return_comment", "reopened_until", "updated_at"])
        change = _change(
            response, new=Status.RETURNED, event=StatusChange.Event.RETURNED, by=by, note=comment
        )
        audit.record("signups.returned", request=request, actor=by, target=response)
        from .tasks import send_return_notice

        transaction.on_commit(lambda: send_return_notice.delay(change.pk))
        return change


def response_reopen(*, response, by, days=7, request=None):
    with transaction.atomic():
        response = Response.objects.select_for_update().get(pk=response.pk)
        response.reopened_until = timezone.now() + timedelta(days=days)
        response.save(update_fields=["reopened_until", "updated_at"])
        change = _change(
            response,
            new=response.status,
            event=StatusChange.Event.REOPENED,
            by=by,
            note=f"重新開放填報 {days} 天",
        )
        audit.record("signups.reopened", request=request, actor=by, target=response, days=days)
        return change


def unanswered_schools(survey):
    """Schools that have not answered (未填, 草稿, 退回)."""
    from portal.models import School

    answered = Response.objects.filter(
        survey=survey, status__in=[Status.SUBMITTED, Status.DECLINED]
    )
    return School.objects.exclude(pk__in=answered.values("school_id")).order_by("code")


def reminders_send(*, survey, kind, by=None, now=None):
    """Create one reminder per unanswered school for `kind`; a second call with the same kind
    creates nothing (unique survey+school+kind), so the beat task and a double click are safe.
    Returns how many reminders were queued."""
    from .tasks import send_reminder

    now = now or timezone.now()
    existing = set(
        Reminder.objects.filter(survey=survey, kind=kind).values_list("school_id", flat=True)
    )
    new = [
        Reminder(survey=survey, school=school, kind=kind, requested_by=by, created_at=now)
        for school in unanswered_schools(survey)
        if school.pk not in existing
    ]
    with transaction.atomic():
        Reminder.objects.bulk_create(new, ignore_conflicts=True)
        ids = list(
            Reminder.objects.filter(
                survey=survey,
                kind=kind,
                sent_at__isnull=True,
                school_id__in=[r.school_id for r in new],
            ).values_list("pk", flat=True)
        )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: send_reminder.delay(pk))
    return len(ids)


def manual_reminder_kind(now=None):
    return f"manual-{timezone.localdate(now or timezone.now()):%Y%m%d}"


def survey_create(*, by, blackouts=(), **fields):
    """Create a survey with its blackout periods [(label, start, end)]."""
    with transaction.atomic():
        survey = Survey.objects.create(created_by=by, **fields)
        Blackout.objects.bulk_create(
            [
                Blackout(survey=survey, label=label, starts_on=s, ends_on=e)
                for label, s, e in blackouts
            ]
        )
        audit.record("signups.survey_created", actor=by, target=survey)
        return survey


def coordinator_emails(school):
    from portal.models import Membership, Role

    return sorted(
        {
            e
            for e in Membership.objects.filter(role=Role.COORDINATOR, school=school)
            .exclude(user__email="")
            .filter(user__is_active=True)
            .values_list("user__email", flat=True)
        }
    )
