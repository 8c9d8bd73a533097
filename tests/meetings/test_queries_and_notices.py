"""Pages run a fixed number of queries whatever the size of the minutes; notices are sent once."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import Meeting, MinutesNotice, ReportItem
from tests import factories


def make_meetings(count, items_each, divisions, bureau):
    meetings = []
    for n in range(count):
        meeting = services.meeting_create(
            user=bureau,
            title=f"第 {n} 次聯席會議",
            held_on=date(2019, 1, 1) + timedelta(days=30 * n),
        )
        for i in range(items_each):
            parent = services.report_item_add(
                meeting=meeting, user=bureau, division=divisions[i % 3], text=f"資安項目 {i}。"
            )
            services.report_item_add(
                meeting=meeting,
                user=bureau,
                division=divisions[i % 3],
                text="子項目。",
                parent=parent,
            )
        services.motion_add(meeting=meeting, user=bureau, kind="extempore", subject="資安案由。")
        meetings.append(services.meeting_publish(meeting=meeting, user=bureau))
    return meetings


@pytest.mark.parametrize("size", [(2, 2), (8, 20)])
def test_query_counts_do_not_grow_with_the_data(size, login, coordinator, divisions, bureau,
                                                 django_assert_max_num_queries):  # fmt: skip
    meetings = make_meetings(*size, divisions, bureau)
    client = login(coordinator)
    client.get(reverse("meetings:list"))  # the first visit warms the session
    with django_assert_max_num_queries(9):
        client.get(reverse("meetings:list") + "?year=108")
    # 9 + attending schools + attachments + whether it kept a sign-in sheet (簽到表)
    with django_assert_max_num_queries(12):
        response = client.get(meetings[-1].get_absolute_url())
    assert response.content.decode().count('class="minutes-entry depth-2"') == size[1]
    with django_assert_max_num_queries(7):
        response = client.get(reverse("meetings:search"), {"q": "資安"})
    assert response.content.decode().count("<mark>資安</mark>") >= min(size[0] * size[1], 100)


def test_publishing_e_mails_opted_in_coordinators_once(divisions, bureau, coordinator, other_coordinator,
                                                       mailoutbox, django_capture_on_commit_callbacks):  # fmt: skip
    other_coordinator.notify_on_minutes = False
    other_coordinator.save()
    no_email = factories.coordinator_of(
        coordinator.memberships.first().school, username="no-mail", email=""
    )
    assert no_email.email == ""
    meeting = services.meeting_create(user=bureau, title="測試會議", held_on=date(2020, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_publish(meeting=meeting, user=bureau)
    assert [m.to for m in mailoutbox] == [[coordinator.email]]
    assert "測試會議" in mailoutbox[0].subject
    # the task runs again (a redelivery): nobody gets a second e-mail
    assert services.publication_notices_send(meeting_id=meeting.pk) == 0
    assert len(mailoutbox) == 1
    assert MinutesNotice.objects.get().sent_at is not None


def test_conveners_are_told_too_and_nobody_twice(divisions, bureau, coordinator, convener,
                                                 beixin_school, jiangcui_school, mailoutbox):  # fmt: skip
    from portal.models import Membership, Role

    # one person with every hat: coordinator of two schools and convener of a district
    many_hats = factories.coordinator_of(beixin_school, username="many-hats")
    Membership.objects.create(user=many_hats, role=Role.COORDINATOR, school=jiangcui_school)
    Membership.objects.create(user=many_hats, role=Role.CONVENER, district=beixin_school.district)
    quiet_convener = factories.convener_of(jiangcui_school.district, username="quiet-convener")
    quiet_convener.notify_on_minutes = False
    quiet_convener.save()
    meeting = services.meeting_create(user=bureau, title="測試會議", held_on=date(2020, 1, 1))
    Meeting.objects.filter(pk=meeting.pk).update(status="published")
    assert services.publication_notices_send(meeting_id=meeting.pk) == 3
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [coordinator.email, convener.email, many_hats.email]
    )  # not the bureau clerk, not the convener who opted out
    assert services.publication_notices_send(meeting_id=meeting.pk) == 0


def test_a_failed_send_releases_the_claim_for_the_retry(
    divisions, bureau, coordinator, monkeypatch, mailoutbox
):
    meeting = services.meeting_create(user=bureau, title="測試會議", held_on=date(2020, 1, 1))
    Meeting.objects.filter(pk=meeting.pk).update(status="published")

    def down(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("portal.mail.send_email", down)
    with pytest.raises(OSError):
        services.publication_notices_send(meeting_id=meeting.pk)
    assert MinutesNotice.objects.get().sent_at is None
    monkeypatch.undo()
    assert services.publication_notices_send(meeting_id=meeting.pk) == 1


def test_drafts_send_nothing(divisions, bureau, coordinator, mailoutbox):
    meeting = services.meeting_create(user=bureau, title="測試會議", held_on=date(2020, 1, 1))
    assert services.publication_notices_send(meeting_id=meeting.pk) == 0
    assert ReportItem.objects.count() == 0 and mailoutbox == []


def test_the_demo_loads_the_seed_once(db):
    from meetings import demo
    from portal import demo as portal_demo

    portal_demo.load()
    first = demo.load()
    second = demo.load()
    assert first.pk == second.pk and first.is_published
    assert Meeting.objects.count() == 1 and first.series.name == "九大分區資訊組長聯席會議"
