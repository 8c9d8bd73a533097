"""Who may see or change what. Every app asks this module; no template or view decides roles.

Rules of the network:
- a school coordinator (資訊組長) sees everything published and files data for one school;
- a district convener (分區代表) also sees the schools of their district;
- bureau staff (教育局) see and manage everything; their division decides which tracked items
  they update;
- a system admin may do what bureau staff do, and use the Django admin.
"""

import logging
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import District, Membership, Role, School

log = logging.getLogger("portal.access")


@dataclass(frozen=True)
class Roles:
    coordinator_school_ids: frozenset = frozenset()
    convener_district_ids: frozenset = frozenset()
    bureau_division_ids: frozenset = frozenset()
    is_bureau: bool = False
    is_admin: bool = False

    @property
    def has_any(self):
        return bool(
            self.coordinator_school_ids
            or self.convener_district_ids
            or self.is_bureau
            or self.is_admin
        )

    @property
    def is_staff(self):
        """Bureau staff or admin: may manage everything in the portal."""
        return self.is_bureau or self.is_admin


NO_ROLES = Roles()


def roles_of(user):
    """The user's roles: one query, then kept on the user object, which lives for one request
    (a role given or taken counts from the person's next request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ROLES
    cached = getattr(user, "_portal_roles", None)
    if cached is not None:
        return cached
    schools, districts, divisions = set(), set(), set()
    bureau, admin = False, user.is_superuser
    for role, school_id, district_id, division_id in Membership.objects.filter(
        user=user
    ).values_list("role", "school_id", "district_id", "division_id"):
        if role == Role.COORDINATOR:
            schools.add(school_id)
        elif role == Role.CONVENER:
            districts.add(district_id)
        elif role == Role.BUREAU:
            bureau = True
            if division_id:
                divisions.add(division_id)
        elif role == Role.ADMIN:
            admin = True
    user._portal_roles = Roles(
        coordinator_school_ids=frozenset(schools),
        convener_district_ids=frozenset(districts),
        bureau_division_ids=frozenset(divisions),
        is_bureau=bureau,
        is_admin=admin,
    )
    return user._portal_roles


def has_role(user):
    return roles_of(user).has_any


def is_staff(user):
    return roles_of(user).is_staff


def is_coordinator_of(user, school):
    return school is not None and school.pk in roles_of(user).coordinator_school_ids


def can_view_school(user, school):
    """School-private data (signup rows, VMs): the school's coordinators, its district's
    convener, bureau staff."""
    roles = roles_of(user)
    if roles.is_staff or school.pk in roles.coordinator_school_ids:
        return True
    return school.district_id in roles.convener_district_ids


def convenes(user, district_id):
    """The user is the district's convener (分區代表): acts for the district as a whole, e.g.
    files a district-filed survey's answer. Bureau staff are not conveners by their role."""
    return district_id is not None and district_id in roles_of(user).convener_district_ids


def can_act_for_school(user, school):
    """Filing data in a school's name: only that school's coordinators (bureau staff act through
    their own pages, e.g. reopening a submission)."""
    return is_coordinator_of(user, school)


def can_update_division_work(user, division):
    """Bureau staff of the responsible division (or any bureau staff when no division is set);
    admins always."""
    roles = roles_of(user)
    if roles.is_admin:
        return True
    if not roles.is_bureau:
        return False
    return (
        division is None
        or not roles.bureau_division_ids
        or division.pk in roles.bureau_division_ids
    )


def visible_schools(user):
    roles = roles_of(user)
    qs = School.objects.select_related("district")
    if roles.is_staff:
        return qs
    return qs.filter(pk__in=roles.coordinator_school_ids) | qs.filter(
        district_id__in=roles.convener_district_ids
    )


def schools_of(user):
    """The schools a coordinator files for, in a stable order."""
    return School.objects.filter(pk__in=roles_of(user).coordinator_school_ids).order_by("code")


def deny(request, reason, **detail):
    """Refuse the request: log it (and audit it), then raise 403 with a message in Chinese."""
    from .audit import record

    user = getattr(request, "user", None)
    log.warning("refused %s %s for %s: %s", request.method, request.path, user, reason)
    record(
        "access.refused",
        request=request,
        target=request.path,
        reason=reason,
        method=request.method,
        **detail,
    )
    raise PermissionDenied(reason)


def require(request, allowed, reason="您沒有權限執行這項操作。", **detail):
    if not allowed:
        deny(request, reason, **detail)


def role_required(view):
    """In front of a view for members: anonymous people are sent to log in, people without a
    role yet see the waiting page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not has_role(request.user):
            return render(request, "portal/pending.html")
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(reason):
    """In front of a view for bureau staff (and admins): `role_required`, then everyone else is
    refused with `reason` (written as 「只有教育局人員可以…。」), logged and audited."""

    def decorate(view):
        @role_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require(request, is_staff(request.user), reason)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# --- meetings -------------------------------------------------------------------------------


def can_view_drafts(user):
    """Anything of draft minutes – the meeting, its reviews and decisions, the tracked items its
    motions open – is for bureau staff (and admins) until it is published. The querysets that
    apply this (meetings.selectors.visible_meetings, tracking's `visible_to(user)`) ask here."""
    return is_staff(user)


def can_view_meeting(user, meeting):
    """Published minutes are read by everyone with a role; drafts only by bureau staff."""
    return can_view_drafts(user) or (meeting.is_published and has_role(user))


def can_manage_meetings(user):
    """Writing, importing, publishing and correcting minutes: bureau staff (and admins)."""
    return is_staff(user)


# --- meetings: before the meeting (notice, agenda) ------------------------------------------


def can_view_agenda(user, convening):
    """A meeting's agenda and announcements: bureau staff always; every member once the bureau
    published the notice (開會通知). Before that nothing of it is shown to anyone else."""
    if is_staff(user):
        return True
    return convening is not None and convening.noticed_at is not None and has_role(user)


def proposal_district_ids(user):
    """The districts a person may write proposals (提案) for: a convener's own, and the district of
    each school a coordinator serves (handed to that district's convener)."""
    roles = roles_of(user)
    ids = set(roles.convener_district_ids)
    if roles.coordinator_school_ids:
        ids |= set(
            School.objects.filter(pk__in=roles.coordinator_school_ids).values_list(
                "district_id", flat=True
            )
        )
    return ids


def can_send_proposal_for(user, district_id):
    """Sending a district's proposal to the bureau: that district's convener."""
    return district_id in roles_of(user).convener_district_ids


def can_view_proposal(user, proposal, *, agenda_visible):
    """A draft: its author and bureau staff. Sent on: also the district's convener. On the
    agenda (accepted) once the agenda is visible: every member."""
    if is_staff(user) or proposal.author_id == user.pk:
        return True
    if proposal.state == "draft":
        return False
    if proposal.district_id in roles_of(user).convener_district_ids:
        return True
    return proposal.state == "accepted" and agenda_visible and has_role(user)


def attendance_schools(user):
    """The schools a person answers attendance for, signs in and asks timetable notes for: a
    coordinator's own school, every school of a convener's district."""
    from django.db.models import Q

    roles = roles_of(user)
    return (
        School.objects.filter(
            Q(pk__in=roles.coordinator_school_ids) | Q(district_id__in=roles.convener_district_ids)
        )
        .select_related("district")
        .order_by("district__position", "code")
    )


def absence_district_ids(user):
    """Whose absences over a year a person sees: bureau staff every district (None), a
    convener their own districts, anyone else none (an empty set)."""
    roles = roles_of(user)
    if roles.is_staff:
        return None
    return set(roles.convener_district_ids)


def can_collect_timetables(user, district_id):
    """Collecting a district's timetable notes (課表): its convener, and bureau staff."""
    roles = roles_of(user)
    return roles.is_staff or district_id in roles.convener_district_ids


# --- vmquota --------------------------------------------------------------------------------


def can_view_district_vms(user, district):
    """A district's VM incidents and suspensions: its convener, and bureau staff."""
    roles = roles_of(user)
    return roles.is_staff or district.pk in roles.convener_district_ids


def vm_districts_of(user):
    """The districts whose VM view this person may open from the VM pages (conveners')."""
    return District.objects.filter(pk__in=roles_of(user).convener_district_ids).order_by(
        "position", "name"
    )
