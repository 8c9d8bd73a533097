"""The home page block: open surveys with their deadline and, for a coordinator, the school's
state; for bureau staff, how many schools have answered."""

from django.db.models import Count, Q

from portal import access
from portal.models import School

from . import filers
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
    convener = bool(access.roles_of(user).convener_district_ids)
    schools = list(access.schools_of(user).select_related("district"))
    convened = filers.convened_schools(user) if any(s.by_district for s in surveys) else []
    statuses = {
        (r.survey_id, r.school_id): r.status
        for r in Response.objects.filter(survey__in=surveys, school__in=set(schools + convened))
    }
    entries = []
    for survey in surveys:
        # only the surveys this person files or follows: a district-filed one is the conveners'
        asked = [s for s in (convened if survey.by_district else schools) if survey.asks(s)]
        if not (staff or asked or (convener and not survey.by_district)):
            continue
        mine = []
        for school in asked:
            status = Status(statuses.get((survey.pk, school.pk), Status.NONE))
            mine.append({"school": school, "label": status.label, "badge": BADGES[status]})
        entries.append({"survey": survey, "mine": mine,
                        "total": survey.districts().count() if staff and survey.by_district
                        else None})  # fmt: skip
    if not entries:
        return None
    return (
        "signups/home_block.html",
        {
            "entries": entries,
            "staff": staff,
            "school_count": School.objects.count() if staff else 0,
        },
    )
