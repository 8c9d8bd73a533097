"""The home page block: open surveys with their deadline and, for a coordinator, the school's
state; for bureau staff, how many schools have answered."""

from django.db.models import Count, Q

from portal import access
from portal.models import School

from .models import ANSWERED, Response, Status
from .selectors import BADGES, open_surveys


def home_block(request):
    user = request.user
    surveys = list(
        open_surveys().annotate(
            answered=Count("responses", filter=Q(responses__status__in=ANSWERED))
        )
    )
    if not surveys:
        return None
    staff = access.is_staff(user)
    schools = list(access.schools_of(user))
    statuses = {
        (r.survey_id, r.school_id): r.status
        for r in Response.objects.filter(survey__in=surveys, school__in=schools)
    }
    entries = []
    for survey in surveys:
        mine = []
        for school in schools:
            status = Status(statuses.get((survey.pk, school.pk), Status.NONE))
            mine.append({"school": school, "label": status.label, "badge": BADGES[status]})
        entries.append({"survey": survey, "mine": mine})
    return (
        "signups/home_block.html",
        {
            "entries": entries,
            "staff": staff,
            "school_count": School.objects.count() if staff else 0,
        },
    )
