"""Reads of the signups app. The grid costs a fixed number of queries whatever the number of
schools: one for the schools (with districts), one for the responses (with row counts)."""

from collections import OrderedDict
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from portal.models import School

from .models import ANSWERED, Response, Status, Survey

BADGES = {
    Status.NONE: "badge-muted",
    Status.DRAFT: "badge-warn",
    Status.SUBMITTED: "badge-ok",
    Status.DECLINED: "badge-info",
    Status.RETURNED: "badge-bad",
}


@dataclass
class GridRow:
    school: School
    status: str
    offers: int = 0
    submitted_at: object = None
    updated_at: object = None

    @property
    def label(self):
        return Status(self.status).label

    @property
    def badge(self):
        return BADGES[self.status]


@dataclass
class DistrictGroup:
    district: object
    rows: list = field(default_factory=list)

    def count(self, status):
        return sum(1 for r in self.rows if r.status == status)

    @property
    def counts(self):
        return [(Status(s).label, BADGES[s], self.count(s)) for s in Status.values]

    @property
    def answered(self):
        return sum(1 for r in self.rows if r.status in ANSWERED)


# The bureau's cached grid (views.grid) depends on this counter: moved when a survey, response,
# status change, school or district is saved or deleted (apps.ready); saving a school's rows
# always saves its response.
GRID_COUNTER = "signups:grid"


def _grid_responses(survey):
    return {
        r["school_id"]: r
        for r in Response.objects.filter(survey=survey)
        .annotate(offer_count=Count("offers"))
        .values("school_id", "status", "offer_count", "submitted_at", "updated_at")
    }


def _grid_row(school, r):
    return GridRow(
        school=school,
        status=r["status"] if r else Status.NONE,
        offers=r["offer_count"] if r else 0,
        submitted_at=r["submitted_at"] if r else None,
        updated_at=r["updated_at"] if r else None,
    )


def district_grid(survey):
    """A district-filed survey: one row per district asked, the answer its convener school
    files; a district without a convener school is listed 未填, with no one to file."""
    responses = _grid_responses(survey)
    return [
        DistrictGroup(district=d, rows=[_grid_row(d.convener_school,
                                                  responses.get(d.convener_school_id))])
        for d in survey.districts().order_by("position", "id")
    ]  # fmt: skip


def survey_grid(survey):
    """Every school, grouped by district, with its state for `survey` (a district-filed survey:
    one row per district)."""
    if survey.by_district:
        return district_grid(survey)
    responses = _grid_responses(survey)
    groups = OrderedDict()
    for school in (
        survey.schools().select_related("district").order_by("district__position", "code")
    ):
        group = groups.setdefault(school.district_id, DistrictGroup(district=school.district))
        group.rows.append(_grid_row(school, responses.get(school.pk)))
    return list(groups.values())


def schools_status(survey, schools):
    """`schools` (a convener's district) with their state for `survey`, in one query."""
    responses = {
        r.school_id: r
        for r in Response.objects.filter(survey=survey, school__in=schools).annotate(
            offer_count=Count("offers")
        )
    }
    rows = []
    for school in schools:
        r = responses.get(school.pk)
        rows.append(
            GridRow(
                school=school,
                status=r.status if r else Status.NONE,
                offers=r.offer_count if r else 0,
                submitted_at=r.submitted_at if r else None,
                updated_at=r.updated_at if r else None,
            )
        )
    return rows


def answered_counts(surveys, schools):
    """{survey id: how many of `schools` have answered it (已送出 or 無意願)}, in one query."""
    return dict(
        Response.objects.filter(survey__in=surveys, school__in=schools, status__in=ANSWERED)
        .values("survey_id")
        .annotate(n=Count("id"))
        .values_list("survey_id", "n")
    )


def totals(groups):
    rows = [r for g in groups for r in g.rows]
    return {
        "schools": len(rows),
        "answered": sum(1 for r in rows if r.status in ANSWERED),
        "by_status": [
            (Status(s).label, BADGES[s], sum(1 for r in rows if r.status == s))
            for s in Status.values
        ],
    }


def open_surveys(now=None):
    now = now or timezone.now()
    return Survey.objects.filter(opens_at__lte=now, closes_at__gt=now, is_draft=False).order_by(
        "closes_at"
    )


def status_of(survey, school):
    r = Response.objects.filter(survey=survey, school=school).values_list("status", flat=True)
    return Status(r.first() or Status.NONE)
