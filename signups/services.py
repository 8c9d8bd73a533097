"""Writes of the signups app: every state change goes through one function here, inside a
transaction, and leaves a `StatusChange` row (who, when, old, new, why)."""

import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal import audit, rocdate
from portal.jobs import job_start
from portal.models import District, School, SchoolLevel

from . import columns, filers, rules
from .models import (
    ANSWERED,
    Blackout,
    FiledBy,
    ImportRun,
    Offer,
    Reminder,
    Response,
    Status,
    StatusChange,
    Submission,
    Survey,
    SurveyChange,
    SurveyColumn,
    SurveyRule,
    params_of,
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


def winter_values(values, school_name):
    """One winter-camp row (`rules.OfferValues`) as typed JSON values by the table's columns
    (`columns.winter_camp_columns`)."""
    day = lambda d: d.isoformat()  # noqa: E731
    return {
        "category": values.category,
        "school": school_name,
        "course_name": values.course_name,
        "activity": {"start": day(values.activity[0]), "end": day(values.activity[1])},
        "venue": values.venue,
        "fee": values.fee,
        "registration": {"start": day(values.registration[0]), "end": day(values.registration[1])},
        "grades": {"from": values.grades[0], "to": values.grades[1], "gender": values.gender},
        "capacity": values.capacity,
    }


def winter_table(survey, blackouts):
    """The winter-camp survey's columns and rules from its form's fields: 類型's options, the
    activity window, each blackout, 報名 before 活動. `blackouts` are (label, start, end)."""
    table = columns.winter_camp_columns(survey.category_list or ["技能研習"])
    found = []
    if survey.activity_starts_on and survey.activity_ends_on:
        found.append(columns.Rule("within", "activity", start=survey.activity_starts_on,
                                  end=survey.activity_ends_on, label=survey.window_label))  # fmt: skip
    found += [columns.Rule("outside", "activity", start=s, end=e, label=label)
              for label, s, e in blackouts]  # fmt: skip
    if survey.registration_before_activity:
        found.append(columns.Rule("before", "registration", other="activity"))
    return table, found


def table_store(survey, table, found):
    """Replace the survey's columns and rules (`columns.Column`, `columns.Rule`)."""
    survey.columns.all().delete()
    survey.table_rules.all().delete()
    SurveyColumn.objects.bulk_create(
        SurveyColumn(survey=survey, position=i, key=c.key, label=c.label, type=c.type,
                     required=c.required, help_text=c.help, options=dict(c.options))
        for i, c in enumerate(table, start=1)
    )  # fmt: skip
    SurveyRule.objects.bulk_create(
        SurveyRule(survey=survey, position=i, kind=r.kind, params=params_of(r))
        for i, r in enumerate(found, start=1)
    )


def _replace_offers(response, rows):
    """Replace the school's rows: `OfferValues` from the winter-camp form (its named fields are
    filled too), or typed values {column key: value} from any survey's table."""
    response.offers.all().delete()
    school_name = response.school.name
    Offer.objects.bulk_create(
        [
            _winter_offer(response, i, v, school_name)
            if isinstance(v, rules.OfferValues)
            else Offer(response=response, position=i, values=v)
            for i, v in enumerate(rows, start=1)
        ]
    )


def _winter_offer(response, position, v, school_name):
    return Offer(
        response=response,
        position=position,
        values=winter_values(v, school_name),
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


def _as_typed(survey, rows):
    """Rows as the school would type them, for an edit kept apart from the sent version."""
    from .forms import initial_of_row, initial_of_values

    year = survey.school_year
    if rows and isinstance(rows[0], rules.OfferValues):
        return [initial_of_values(v, year) for v in rows]
    table = survey.table()[0]
    return [initial_of_row(table, v, year) for v in rows]


def _last_version_number(response):
    return response.submissions.order_by("-number").values_list("number", flat=True).first() or 0


def _keep_apart(response, *, typed_rows, complete, event, by):
    """An answer already sent stays as sent: the edit is kept beside it until resubmitted."""
    response.draft_rows, response.draft_complete = typed_rows, complete
    response.save(update_fields=["draft_rows", "draft_complete", "updated_at"])
    number = _last_version_number(response)
    note = f"修改尚未送出，教育局看到的仍是第 {number} 版" + ("" if complete else "（未完成）")
    return _change(response, new=response.status, event=event, by=by, note=note)


def offers_save(*, response, rows, by, event=StatusChange.Event.SAVED):
    """Save the school's table `rows` (OfferValues, in order). Before the school has answered they
    are its rows (草稿). Once it has sent (or declined) they are kept apart as an edit: the answer
    stays 已送出 with the version the bureau consolidates until the school sends the new one."""
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        _require_editable(response)
        if response.status in ANSWERED:
            _keep_apart(response, typed_rows=_as_typed(response.survey, rows), complete=True,
                        event=event, by=by)  # fmt: skip
            return response
        _replace_offers(response, rows)
        response.draft_rows, response.draft_complete = None, True
        if response.status != Status.DRAFT or event == StatusChange.Event.IMPORTED:
            response.save(update_fields=["draft_rows", "draft_complete", "updated_at"])
            _change(response, new=Status.DRAFT, event=event, by=by)
        else:
            response.save(update_fields=["draft_rows", "draft_complete", "updated_at"])
        return response


def draft_save_unfinished(*, response, typed_rows, by):
    """「儲存草稿」 with errors: the rows are kept as typed (marked 未完成) so nothing typed is
    lost; the rows the bureau sees are not touched. An answer already sent stays sent."""
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        _require_editable(response)
        if response.status in ANSWERED:
            return _keep_apart(response, typed_rows=typed_rows, complete=False,
                               event=StatusChange.Event.SAVED, by=by)  # fmt: skip
        response.draft_rows, response.draft_complete = typed_rows, False
        response.save(update_fields=["draft_rows", "draft_complete", "updated_at"])
        return _change(response, new=Status.DRAFT, event=StatusChange.Event.SAVED, by=by,
                       note="未完成")  # fmt: skip


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


def table_snapshot(survey, offers):
    """Any survey's rows as shown: [{column key: text}]."""
    table = survey.table()[0]
    return [{c.key: columns.show(c, o.values.get(c.key), school_year=survey.school_year)
             for c in table} for o in offers]  # fmt: skip


def _new_version(response, *, by, declined):
    number = _last_version_number(response) + 1
    survey, offers = response.survey, response.offers.all()
    if declined:
        snapshot = []
    elif survey.is_winter_camp:
        snapshot = snapshot_of(offers)
    else:
        snapshot = table_snapshot(survey, offers)
    return Submission.objects.create(
        response=response, number=number, by=by, declined=declined, snapshot=snapshot
    )


def _kept_rows(response):
    """The kept edit's values, judged again by today's rules; refused while any row is wrong."""
    unfinished = SignupError("有尚未完成的修改，請先修正表格中標示的欄位再送出。")
    survey = response.survey
    if not response.draft_complete:
        raise unfinished
    if not survey.is_winter_camp:
        table, found = survey.table()
        result = columns.check_table(table, found, response.draft_rows,
                                     school_year=survey.school_year,
                                     school_name=response.school.name,
                                     schools=filers.district_schools(survey, response.school))  # fmt: skip
        if not result.ok:
            raise unfinished
        return result.rows
    survey_rules = survey.rules()
    results = [rules.clean_row(row, survey_rules) for row in response.draft_rows]
    if any(r.errors for r in results):
        raise unfinished
    return [r.values for r in results]


def response_submit(*, response, by, rows=None, request=None):
    """Send the school's rows (or `rows`, OfferValues, replacing them) as a new version. A kept
    edit is resolved: what is sent now is the answer."""
    with transaction.atomic():
        response = Response.objects.select_for_update().select_related("survey").get(pk=response.pk)
        _require_editable(response)
        if rows is None and response.draft_rows is not None:
            rows = _kept_rows(response)
        if rows is not None:
            if not rows:
                raise SignupError(
                    "尚未填寫任何資料列；若貴校不辦理，請按「本校不辦理（無意願）」。"
                )
            _replace_offers(response, rows)
        if not response.offers.exists():
            raise SignupError("尚未填寫任何資料列；若貴校不辦理，請按「本校不辦理（無意願）」。")
        version = _new_version(response, by=by, declined=False)
        response.submitted_at = version.at
        response.return_comment = ""
        response.draft_rows, response.draft_complete = None, True
        response.save(update_fields=["submitted_at", "return_comment", "draft_rows",
                                     "draft_complete", "updated_at"])  # fmt: skip
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
    answered = Response.objects.filter(
        survey=survey, status__in=[Status.SUBMITTED, Status.DECLINED]
    )
    return survey.schools().exclude(pk__in=answered.values("school_id")).order_by("code")


@dataclass
class RemindersOutcome:
    """What a round of reminders did: how many schools were e-mailed, which unanswered schools
    have no one to e-mail (no active coordinator with an address), how many had this reminder."""

    sent: int = 0
    no_one: list = field(default_factory=list)
    already: int = 0


def schools_without_address(schools, survey=None):
    """Of `schools`, those with no active coordinator who has an e-mail address (nor, for a
    district-filed survey, a convener of the district)."""
    reachable = set(
        School.objects.filter(pk__in=[s.pk for s in schools])
        .filter(filers.reachable(survey))
        .values_list("pk", flat=True)
    )
    return [s for s in schools if s.pk not in reachable]


def unanswered_without_address(survey):
    """Schools that have not answered and that no reminder can reach, in one query."""
    return list(
        unanswered_schools(survey).exclude(filers.reachable(survey)).select_related("district")
    )


def reminders_send(*, survey, kind, by=None, now=None):
    """Create one reminder per unanswered school that someone can receive, for `kind`; a second
    call with the same kind creates nothing (unique survey+school+kind), so the beat task and a
    double click are safe. A school with no one to e-mail gets no reminder row (nothing was
    sent), so once someone is invited the same round reaches it."""
    from .tasks import send_reminder

    now = now or timezone.now()
    existing = set(
        Reminder.objects.filter(survey=survey, kind=kind).values_list("school_id", flat=True)
    )
    waiting = [s for s in unanswered_schools(survey) if s.pk not in existing]
    no_one = schools_without_address(waiting, survey)
    skipped = {s.pk for s in no_one}
    new = [
        Reminder(survey=survey, school=school, kind=kind, requested_by=by, created_at=now)
        for school in waiting
        if school.pk not in skipped
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
    return RemindersOutcome(sent=len(ids), no_one=no_one, already=len(existing))


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
        table_store(survey, *winter_table(survey, blackouts))
        audit.record("signups.survey_created", actor=by, target=survey)
        return survey


WINTER_CAMP_LABELS = ["類型", "承辦學校", "課程名稱", "活動日期", "活動地點", "費用", "報名日期",
                      "參加年級", "人數"]  # fmt: skip


def survey_from_proposal(*, proposal, title, opens_at, closes_at, by, request=None):
    """Create the survey a bureau template proposes, as a draft the bureau reviews before
    schools see it. The seed's winter-camp table becomes today's winter-camp survey (類型's
    options, the window and blackouts from the notes, 報名 before 活動, its own form); any other
    table is stored as it came: its columns and the rules proposed from its notes."""
    if closes_at is None:
        raise SignupError("請填寫截止時間，例如 115/9/23 17:00。")
    if closes_at <= opens_at:
        raise SignupError("截止時間須晚於開放時間。")
    if not proposal.columns:
        raise SignupError("範本沒有任何欄位。")
    labels = [c.label for c in proposal.columns]
    within = [r for r in proposal.rules if r.kind == "within"]
    common = {"by": by, "title": title or proposal.title, "instructions": "\n".join(proposal.notes),
              "opens_at": opens_at, "closes_at": closes_at, "is_draft": True}  # fmt: skip
    if labels == WINTER_CAMP_LABELS and within:
        window = within[0]
        categories = next(c for c in proposal.columns if c.label == "類型").choices or ["技能研習"]
        return survey_create(
            **common,
            school_year=proposal.school_year or rocdate.school_year_of(window.start),
            categories="\n".join(categories),
            window_label=window.label or "活動",
            activity_starts_on=window.start,
            activity_ends_on=window.end,
            registration_before_activity=any(r.kind == "before" for r in proposal.rules),
            blackouts=[(r.label, r.start, r.end) for r in proposal.rules if r.kind == "outside"],
        )
    with transaction.atomic():
        survey = Survey.objects.create(
            created_by=common.pop("by"), categories="", registration_before_activity=False,
            school_year=proposal.school_year or rocdate.school_year_of(timezone.localdate(opens_at)),
            **common,
        )  # fmt: skip
        table_store(survey, proposal.columns, proposal.rules)
        audit.record("signups.survey_created", request=request, actor=by, target=survey,
                     columns=len(proposal.columns))  # fmt: skip
        return survey


def survey_columns_update(*, survey, by, columns_, request=None):
    """Change the columns' type, required, help text and options [(column, {field: value})] as
    the bureau reviewed them, recorded as one `SurveyChange`. Once any school has filed a row a
    column's type may not change (its stored values were read by the old type): refused, with
    nothing saved. Returns the change, or None when nothing changed."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        filed = Offer.objects.filter(response__survey=survey).values("response").distinct().count()
        changes = []
        for column, new in columns_:
            column = SurveyColumn.objects.get(pk=column.pk, survey=survey)
            if new["type"] != column.type and filed:
                raise SignupError(
                    f"已有 {filed} 校填報，不能再把欄位「{column.label}」的類型從"
                    f"「{columns.TYPES[column.type]}」改為「{columns.TYPES[new['type']]}」："
                    "已填的資料是依原類型讀取的。請另建一個調查，或先請學校清空再改。"
                )
            for name, label in (("type", "類型"), ("required", "必填"), ("help_text", "填寫說明"),
                                ("options", "類型選項")):  # fmt: skip
                old = getattr(column, name)
                if old != new[name]:
                    show = columns.TYPES.get if name == "type" else _shown
                    changes.append({"field": f"column:{column.key}:{name}",
                                    "label": f"欄位「{column.label}」{label}",
                                    "old": show(old), "new": show(new[name])})  # fmt: skip
                    setattr(column, name, new[name])
            column.save()
        if not changes:
            return None
        change = SurveyChange.objects.create(survey=survey, by=by, fields=changes)
        audit.record("signups.survey_columns_edited", request=request, actor=by, target=survey,
                     fields=[c["label"] for c in changes])  # fmt: skip
        return change


def rules_from_survey_form(survey):
    """A winter-camp survey's rules come from its form's dates (window, blackouts, 報名 before
    活動) and are rebuilt from them on every edit: they are changed there, not one by one."""
    return survey.activity_starts_on is not None


def rows_failing_rules(survey, table, found):
    """Per school, what of its filed rows `found` would refuse:
    [(school, [row numbers], [messages about the whole table])], judged by `columns.py`."""
    failing = []
    responses = (survey.responses.filter(offers__isnull=False).distinct()
                 .select_related("school").order_by("school__code"))  # fmt: skip
    for response in responses:
        typed = [o.values for o in response.offers.order_by("position", "id")]
        problems = columns.judge_rows(table, found, typed)
        rows = sorted({p.row for p in problems if p.row})
        whole = [p.message for p in problems if p.row is None]
        if rows or whole:
            failing.append((response.school, rows, whole))
    return failing


def _rules_refusal(failing):
    parts, count = [], 0
    for school, rows, whole in failing:
        count += len(rows)
        said = [f"第 {'、'.join(map(str, rows))} 列" if rows else "", *whole]
        parts.append(f"{school.name} " + "；".join(s for s in said if s))
    rows = f"共 {count} 列" if count else ""
    return (
        f"已填報的資料中有 {len(failing)} 校{rows}不符合新的規則，規則未儲存："
        f"{'／'.join(parts)}。請調整規則，或先請這些學校修正資料。"
    )


def survey_rules_replace(*, survey, by, rules_, request=None):
    """Replace the survey's rules with `rules_` [columns.Rule] as the bureau edited them,
    recorded as one `SurveyChange`. Rows already filed are judged by the new rules first: if
    any would be refused, nothing is saved and the message names the schools and rows.
    Returns the change, or None when nothing changed."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if rules_from_survey_form(survey):
            raise SignupError("這個調查的規則來自「修改調查」頁的活動期間、不可辦理期間與"
                              "報名早於活動的設定，請在那裡修改。")  # fmt: skip
        table, old = survey.table()
        new = list(rules_)
        if new == old:
            return None
        failing = rows_failing_rules(survey, table, new)
        if failing:
            raise SignupError(_rules_refusal(failing))
        survey.table_rules.all().delete()
        SurveyRule.objects.bulk_create(
            SurveyRule(survey=survey, position=i, kind=r.kind, params=params_of(r))
            for i, r in enumerate(new, start=1)
        )
        labels = {c.key: c.label for c in table}

        def shown(found):
            return "".join(columns.rule_words(r, labels) for r in found) or "（無）"

        change = SurveyChange.objects.create(survey=survey, by=by, fields=[
            {"field": "rules", "label": "規則", "old": shown(old), "new": shown(new)}])  # fmt: skip
        audit.record("signups.survey_columns_edited", request=request, actor=by, target=survey,
                     fields=["規則"])  # fmt: skip
        return change


def refuse_filer_change(survey, filed_by):
    """Who files may not change once anyone has answered: the answers would belong to no one
    asked (280 schools' tables under 9 districts, or the other way round)."""
    if filed_by == survey.filed_by:
        return
    answered = survey.responses.exclude(status=Status.NONE).count()
    if answered:
        raise SignupError(
            f"已有 {answered} 份填報，不能再把填報單位從「{survey.get_filed_by_display()}」改為"
            f"「{FiledBy(filed_by).label}」。請另建一個調查。"
        )


def survey_audience_set(*, survey, by, district_ids, levels, filed_by=None, request=None):
    """Who files: the schools of `district_ids` and `levels` (empty = all), or one answer per
    district by its convener school (`filed_by`), recorded."""

    def shown(ids, lvls, filer):
        names = dict(District.objects.values_list("pk", "name"))
        parts = ["、".join(names.get(i, str(i)) for i in ids) or "全部分區",
                 "、".join(SchoolLevel(v).label for v in lvls) or "全部學制",
                 FiledBy(filer).label]  # fmt: skip
        return "；".join(parts)

    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        filed_by = filed_by or survey.filed_by
        new = (list(district_ids), list(levels), filed_by)
        if (survey.district_ids, survey.levels, survey.filed_by) == new:
            return None
        refuse_filer_change(survey, filed_by)
        old = shown(survey.district_ids, survey.levels, survey.filed_by)
        survey.district_ids, survey.levels, survey.filed_by = new
        survey.save(update_fields=["district_ids", "levels", "filed_by"])
        change = SurveyChange.objects.create(survey=survey, by=by, fields=[
            {"field": "audience", "label": "填報對象", "old": old,
             "new": shown(*new)}])  # fmt: skip
        audit.record("signups.survey_audience", request=request, actor=by, target=survey)
        return change


def survey_review_save(*, survey, by, audience, columns_, request=None):
    """Save the columns page in one go: who files (`audience`, the keyword arguments of
    `survey_audience_set`) and the columns (`survey_columns_update`). All or nothing: if either
    is refused nothing is saved, and the error says every refusal, not only the first.
    Returns (audience change, columns change), each None when nothing changed there."""
    refusals, changes = [], []
    with transaction.atomic():
        for save in (lambda: survey_audience_set(survey=survey, by=by, request=request,
                                                 **audience),
                     lambda: survey_columns_update(survey=survey, by=by, columns_=columns_,
                                                   request=request)):  # fmt: skip
            try:
                changes.append(save())
            except SignupError as exc:
                refusals.append(str(exc))
        if refusals:
            transaction.set_rollback(True)
    if refusals:
        raise SignupError(" ".join(refusals))
    return tuple(changes)


def survey_publish(*, survey, by, request=None):
    """A draft survey (made from a template) becomes visible to the schools."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if not survey.is_draft:
            raise SignupError("這個調查已經公布。")
        if not survey.columns.exists():
            raise SignupError("調查沒有任何欄位，無法公布。")
        survey.is_draft = False
        survey.save(update_fields=["is_draft"])
        SurveyChange.objects.create(survey=survey, by=by, fields=[
            {"field": "is_draft", "label": "公布", "old": "草稿", "new": "已公布"}])  # fmt: skip
        audit.record("signups.survey_published", request=request, actor=by, target=survey)
        return survey


EDITABLE_FIELDS = ("title", "instructions", "meeting", "report_item", "opens_at", "closes_at",
                   "contact", "school_year", "categories", "window_label", "activity_starts_on",
                   "activity_ends_on", "registration_before_activity", "reminder_days_before",
                   "filed_by")  # fmt: skip


def _shown(value):
    """A field's value as the bureau reads it, for the change record."""
    if value is None or value == "" or value == {}:
        return "（空白）"
    if isinstance(value, dict):
        return "；".join(f"{k}：{'、'.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in value.items())  # fmt: skip

    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "hour"):
        return rocdate.format_datetime(value)
    if hasattr(value, "year"):
        return rocdate.format_short(value)
    return str(value)


def _blackouts_shown(periods):
    return "、".join(
        f"{label}（{rocdate.format_short(s)}～{rocdate.format_short(e)}）" for label, s, e in periods
    ) or "（無）"  # fmt: skip


def survey_update(*, survey, by, fields, blackouts, request=None):
    """Change a survey's fields and replace its blackout periods [(label, start, end)], recording
    who changed what (old → new, as text) in one `SurveyChange`. Returns it, or None when nothing
    changed. Rows already filed are not touched: `offers_breaking_rules` says which no longer fit."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        refuse_filer_change(survey, fields.get("filed_by", survey.filed_by))
        changes = []
        for name in EDITABLE_FIELDS:
            if name not in fields:
                continue
            old, new = getattr(survey, name), fields[name]
            if old != new:
                label = str(Survey._meta.get_field(name).verbose_name)
                show = (lambda v: FiledBy(v).label) if name == "filed_by" else _shown
                changes.append({"field": name, "label": label, "old": show(old),
                                "new": show(new)})  # fmt: skip
                setattr(survey, name, new)
        old_periods = [(b.label, b.starts_on, b.ends_on) for b in survey.blackouts.all()]
        new_periods = sorted(blackouts, key=lambda p: (p[1], p[2]))
        if old_periods != new_periods:
            changes.append({"field": "blackouts", "label": "不可辦理期間",
                            "old": _blackouts_shown(old_periods),
                            "new": _blackouts_shown(new_periods)})  # fmt: skip
            survey.blackouts.all().delete()
            Blackout.objects.bulk_create(
                [Blackout(survey=survey, label=label, starts_on=s, ends_on=e)
                 for label, s, e in new_periods]
            )  # fmt: skip
        if not changes:
            return None
        survey.save()
        if survey.activity_starts_on is not None:  # a survey with the winter-camp form's rules
            table_store(survey, *winter_table(survey, new_periods))
        change = SurveyChange.objects.create(survey=survey, by=by, fields=changes)
        audit.record("signups.survey_edited", request=request, actor=by, target=survey,
                     fields=[c["label"] for c in changes])  # fmt: skip
        return change


def offers_breaking_rules(survey):
    """Rows already filed that the survey's current rules would refuse (after an edit moved the
    window, added a blackout or dropped a choice): [(offer, [messages])], judged by `columns.py`
    on the stored typed values. The school sees the messages the next time it saves; the bureau
    is told how many there are when it edits."""
    table, found_rules = survey.table()
    found = []
    offers = Offer.objects.filter(response__survey=survey).select_related("response__school")
    for offer in offers:
        messages = [p.message for p in columns.judge_rows(table, found_rules, [offer.values])]
        for column in table:
            value = offer.values.get(column.key)
            if column.type == "choice" and value not in (None, "") and value not in column.choices:
                messages.append(f"{column.label}「{value}」已不在選項中。")
        if messages:
            found.append((offer, messages))
    return found


# --- spreadsheet import, in the background ---------------------------------------------------


def import_start(*, response, upload, by, request=None):
    """Check that the upload is a small, real .xlsx (raises `resources.ImportRefused` at once),
    keep it in the database and queue `tasks.import_workbook`. Returns the `ImportRun`, whose
    `job` is the progress page to send the person to. Nothing of the table is read here: the
    worker judges every row, so the request never waits for openpyxl."""
    from .resources import check_xlsx
    from .tasks import import_workbook

    _require_editable(response)
    check_xlsx(upload)
    upload.seek(0)
    data = upload.read()
    with transaction.atomic():
        run = ImportRun.objects.create(
            response=response, by=by, filename=(upload.name or "")[:200], size=len(data), data=data
        )
        run.job = job_start(
            kind="signups.import",
            title=f"匯入 {response.school.name} 的 Excel 填報表",
            user=by,
            task=import_workbook,
            params={"import_run": run.pk},
        )
        run.save(update_fields=["job"])
        audit.record("signups.import_queued", request=request, actor=by, target=response,
                     import_run=run.pk, size=len(data))  # fmt: skip
    return run


def import_run_process(*, run_id, progress=None):
    """The worker's half: judge every row, then save them all in one transaction – or none, with
    every problem kept on the run for the result page. A run already finished is left alone."""
    from .resources import ImportRefused, read_rows

    progress = progress or (lambda *args: None)
    run = ImportRun.objects.select_related("response__survey", "response__school", "by").get(
        pk=run_id
    )
    if run.outcome != ImportRun.Outcome.PENDING:
        return run
    response = run.response
    problems = []
    try:
        # judged outside the transaction, so the progress updates are seen while it runs
        sheet = read_rows(io.BytesIO(bytes(run.data or b"")), survey_rules=response.survey.rules(),
                          school=response.school, progress=progress, survey=response.survey)  # fmt: skip
        count = len(sheet.rows)
        progress(count, count, "儲存中")
        with transaction.atomic():
            saved = offers_save(response=response, rows=[v for _, v in sheet.rows], by=run.by,
                                event=StatusChange.Event.IMPORTED)  # fmt: skip
            run.outcome, run.rows_saved = ImportRun.Outcome.SAVED, count
            run.data, run.finished_at = None, timezone.now()
            run.save(update_fields=["outcome", "rows_saved", "data", "finished_at"])
            audit.record("signups.imported", actor=run.by, target=response, rows=count,
                         import_run=run.pk)  # fmt: skip
        kept = "；已送出的版本不變，送出後才會取代" if saved.has_pending_edits else ""
        progress(count, count, f"已匯入 {count} 列並存為草稿{kept}")
        return run
    except ImportRefused as exc:
        problems = exc.messages
    except SignupError as exc:  # the survey closed between the upload and the work
        problems = [str(exc)]
    run.outcome, run.problems = ImportRun.Outcome.REFUSED, problems
    run.data, run.finished_at = None, timezone.now()
    run.save(update_fields=["outcome", "problems", "data", "finished_at"])
    audit.record("signups.import_refused", actor=run.by, target=run.response,
                 problems=len(problems), import_run=run.pk)  # fmt: skip
    progress(0, 0, f"發現 {len(problems)} 個問題，沒有儲存任何資料")
    return run
