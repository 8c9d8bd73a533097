"""Who files a survey's answer, and who is e-mailed about it.

Most surveys are filed by every school's coordinators. A district-filed survey (分區召集學校填報)
has one answer per district: the convener school's `Response` stands for the district, filed by
that school's coordinators or the district's convener (分區代表). The roles are read through
`portal.access`; these rules only add the district-filed case.
"""

from django.db.models import Exists, F, OuterRef, Q

from portal import access
from portal.models import Membership, Role, School

from .columns import DistrictSchools


def can_file(user, survey, school):
    """Filing in `school`'s name for `survey`: its coordinators; for a district-filed survey also
    the district's convener (`school` is then the district's convener school)."""
    if access.can_act_for_school(user, school):
        return True
    return survey.by_district and access.convenes(user, school.district_id) and survey.asks(school)


def district_schools(survey, school):
    """The schools `school` may fill in rows for: in a district-filed survey (`school` is then
    its district's convener school) every school of the district; None otherwise (a school
    files its own rows)."""
    if not survey.by_district:
        return None
    found = School.objects.filter(district_id=school.district_id).order_by("code")
    return DistrictSchools(
        district=school.district.name,
        convener=(school.code, school.name),
        schools=tuple(found.values_list("code", "name")),
    )


def district_schools_filed_by(user, survey):
    """The convener schools whose district answer `user` may file for a district-filed survey."""
    if not survey.by_district:
        return []
    return [school for school in convened_schools(user) if survey.asks(school)]


def convened_schools(user):
    """The convener schools whose district answers `user` may file: those they coordinate and
    those of the districts they convene (one query, with their districts)."""
    roles = access.roles_of(user)
    if not (roles.coordinator_school_ids or roles.convener_district_ids):
        return []
    return list(
        School.objects.filter(district__convener_school=F("pk"))
        .filter(Q(pk__in=roles.coordinator_school_ids)
                | Q(district_id__in=roles.convener_district_ids))
        .select_related("district")
        .order_by("district__position", "code")
    )  # fmt: skip


def _members(survey, school):
    found = Q(role=Role.COORDINATOR, school=school)
    if survey.by_district:
        found |= Q(role=Role.CONVENER, district_id=school.district_id)
    return Membership.objects.filter(found, user__is_active=True).exclude(user__email="")


def emails(survey, school):
    """Who hears of a reminder or a 退回: the school's coordinators; for a district-filed survey
    also the district's conveners."""
    return sorted(set(_members(survey, school).values_list("user__email", flat=True)))


def reachable(survey):
    """A condition on School: someone active with an e-mail address would get its reminder."""
    coordinators = Membership.objects.filter(
        role=Role.COORDINATOR, school=OuterRef("pk"), user__is_active=True
    ).exclude(user__email="")
    found = Q(Exists(coordinators))
    if survey is not None and survey.by_district:
        conveners = Membership.objects.filter(
            role=Role.CONVENER, district=OuterRef("district_id"), user__is_active=True
        ).exclude(user__email="")
        found |= Q(Exists(conveners))
    return found


def filed_by_convener(survey, school):
    """Whether `school`'s answer to `survey` is filed by its district's convener school
    (reads `school.district`, no query)."""
    district = school.district
    return (survey.by_district and district.convener_school_id is not None
            and (not survey.district_ids or district.pk in survey.district_ids))  # fmt: skip


def filed_for(survey, school):
    """The rows `school`'s district convener filed for it in a district-filed survey, as sent:
    only an answer 已送出 (never a draft, nor an edit kept apart), matched by the stored 學校代碼.
    None when its district is not asked (no convener school, or left out of the survey)."""
    from .models import Offer, Status

    if not filed_by_convener(survey, school):
        return None
    convener = school.district.convener_school_id
    keys = [c.key for c in survey.table()[0] if c.type == "school"]
    if not keys:
        return Offer.objects.none()
    return Offer.objects.filter(
        response__survey=survey, response__school=convener, response__status=Status.SUBMITTED,
        **{f"values__{keys[0]}__code": school.code},
    ).order_by("position", "id")  # fmt: skip
