from portal import access
from portal.models import AuditEvent
from tests import factories


def test_a_coordinator_sees_only_their_own_schools_private_data(
    coordinator, xindian_school, jiangcui_school
):
    assert access.can_view_school(coordinator, xindian_school)
    assert not access.can_view_school(coordinator, jiangcui_school)
    assert list(access.visible_schools(coordinator)) == [xindian_school]


def test_a_convener_sees_the_schools_of_their_district(
    convener, xindian_school, beixin_school, jiangcui_school
):
    assert access.can_view_school(convener, beixin_school)
    assert not access.can_view_school(convener, jiangcui_school)
    assert not access.can_act_for_school(convener, beixin_school)


def test_only_a_districts_convener_convenes_it(
    convener, coordinator, bureau, wenshan, banqiao, xindian_school
):
    assert access.convenes(convener, wenshan.pk)
    assert not access.convenes(convener, banqiao.pk)
    assert not access.convenes(convener, None)
    # a coordinator of one of its schools, and bureau staff, do not act as its convener
    assert not access.convenes(coordinator, xindian_school.district_id)
    assert not access.convenes(bureau, wenshan.pk)


def test_bureau_staff_see_every_school_but_do_not_file_for_one(
    bureau, xindian_school, jiangcui_school
):
    assert access.is_staff(bureau)
    assert set(access.visible_schools(bureau)) == {xindian_school, jiangcui_school}
    assert not access.can_act_for_school(bureau, xindian_school)


def test_a_user_without_membership_has_no_role(db):
    newcomer = factories.UserFactory(username="newcomer")
    assert not access.has_role(newcomer)
    assert access.roles_of(newcomer) == access.NO_ROLES


def test_a_disabled_account_has_no_role(coordinator):
    coordinator.is_active = False
    coordinator.save()
    coordinator.refresh_from_db()
    assert not access.has_role(coordinator)


def test_division_work_is_updated_by_staff_of_that_division(db):
    promo = factories.DivisionFactory(name="資訊推廣組")
    netsec = factories.DivisionFactory(name="網管資安組")
    clerk = factories.bureau_staff(username="promo-clerk", division=promo)
    assert access.can_update_division_work(clerk, promo)
    assert not access.can_update_division_work(clerk, netsec)


def test_a_refusal_is_logged_in_the_audit_log(rf, coordinator):
    request = rf.post("/signups/forged/")
    request.user = coordinator
    try:
        access.require(request, False, reason="不是您的學校")
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "PermissionDenied"
    event = AuditEvent.objects.get(action="access.refused")
    assert event.actor == coordinator
    assert event.detail["reason"] == "不是您的學校"


# --- the gates in front of views ----------------------------------------------------------------


def _ok(request):
    from django.http import HttpResponse

    return HttpResponse("the page")


def _request(rf, user):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/some/page/")
    request.user = user if user is not None else AnonymousUser()
    return request


def test_role_required_sends_strangers_to_log_in_and_newcomers_to_the_waiting_page(rf, coordinator):
    view = access.role_required(_ok)
    anonymous = view(_request(rf, None))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    newcomer = view(_request(rf, factories.UserFactory(username="newcomer")))
    assert "帳號等待核准" in newcomer.content.decode()
    assert view(_request(rf, coordinator)).content == b"the page"


def test_staff_required_refuses_members_with_its_reason_and_audits_it(rf, coordinator, bureau):
    import pytest
    from django.core.exceptions import PermissionDenied

    view = access.staff_required("只有教育局人員可以看這一頁。")(_ok)
    with pytest.raises(PermissionDenied, match="只有教育局人員可以看這一頁。"):
        view(_request(rf, coordinator))
    event = AuditEvent.objects.get(action="access.refused")
    assert event.actor == coordinator and event.detail["reason"] == "只有教育局人員可以看這一頁。"
    assert view(_request(rf, bureau)).content == b"the page"
    newcomer = view(_request(rf, factories.UserFactory(username="newcomer")))
    assert "帳號等待核准" in newcomer.content.decode()  # no role yet: waiting, not refused
