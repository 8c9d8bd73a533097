"""Status updates (辦理情形) between meetings: who may post, what is refused, who is told."""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from tracking import services
from tracking.models import Review, StatusUpdate, Subscription, TrackedItem, UpdateNotice
from tracking.services import meeting_saved, status_update_post


@pytest.fixture
def item(imported_seed, platform):
    """108-09-02 (還原密碼), followed up by 系統平臺組."""
    item = TrackedItem.objects.get(case_no="108-09-02")
    item.division = platform
    item.save()
    return item


def _post(client, item, text):
    return client.post(reverse("tracking:update", args=[item.case_no]), {"text": text})


def test_a_clerk_of_the_division_posts_an_update_from_the_item_page(login, item, platform_clerk):
    response = _post(login(platform_clerk), item, "已函請廠商評估客服還原密碼。")
    assert response.status_code == 302
    update = StatusUpdate.objects.get(item=item)
    assert update.author == platform_clerk
    item.refresh_from_db()
    assert item.last_update_at == update.created_at
    page = login(platform_clerk).get(item.get_absolute_url()).content.decode()
    assert "已函請廠商評估客服還原密碼。" in page


def test_a_clerk_of_another_division_is_refused_with_a_message(login, item, promotion_clerk):
    response = _post(login(promotion_clerk), item, "越權的更新")
    assert response.status_code == 403
    assert "系統平臺組" in response.content.decode()
    assert not StatusUpdate.objects.exists()
    assert AuditEvent.objects.filter(action="access.refused").exists()


def test_a_coordinator_cannot_post_an_update(login, item, coordinator):
    assert _post(login(coordinator), item, "我想更新").status_code == 403
    assert not StatusUpdate.objects.exists()


def test_an_empty_update_is_refused(login, item, platform_clerk):
    response = _post(login(platform_clerk), item, "   \n ")
    assert response.status_code == 400
    assert "請填寫辦理情形" in response.content.decode()
    assert not StatusUpdate.objects.exists()
    with pytest.raises(services.TrackingError):
        status_update_post(item=item, user=platform_clerk, text="")


def test_a_closed_item_takes_no_more_updates(imported_seed, sysadmin):
    closed = TrackedItem.objects.get(case_no="108-09-R01")
    with pytest.raises(services.TrackingError, match="已解列"):
        status_update_post(item=closed, user=sysadmin, text="補充")


def test_a_subscribed_coordinator_is_emailed_once_per_update(
    login, item, platform_clerk, coordinator, django_capture_on_commit_callbacks
):
    response = login(coordinator).post(reverse("tracking:subscribe", args=[item.case_no]))
    assert response.status_code == 302
    assert Subscription.objects.filter(item=item, user=coordinator).exists()
    with django_capture_on_commit_callbacks(execute=True):
        _post(login(platform_clerk), item, "廠商同意寒暑假提供客服。")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [coordinator.email]
    assert "108-09-02" in message.subject
    assert "廠商同意寒暑假提供客服。" in message.body
    # the task is safe to run twice: the second run sends nothing
    update = StatusUpdate.objects.get()
    assert services.update_notify(update_id=update.pk) == 0
    assert len(mail.outbox) == 1
    assert UpdateNotice.objects.count() == 1


def test_an_unsubscribed_coordinator_gets_nothing(
    login, item, platform_clerk, coordinator, django_capture_on_commit_callbacks
):
    client = login(coordinator)
    client.post(reverse("tracking:subscribe", args=[item.case_no]))
    client.post(reverse("tracking:subscribe", args=[item.case_no]), {"action": "unsubscribe"})
    with django_capture_on_commit_callbacks(execute=True):
        status_update_post(item=item, user=platform_clerk, text="更新")
    assert mail.outbox == []


def test_updates_fill_the_pending_review_of_the_next_meeting(item, platform_clerk, make_meeting):
    from datetime import date

    october = make_meeting(date(2019, 10, 15))
    meeting_saved(meeting=october)
    status_update_post(item=item, user=platform_clerk, text="第一則")
    status_update_post(item=item, user=platform_clerk, text="第二則")
    review = Review.objects.get(item=item, meeting=october)
    assert review.current_status == "1、第一則\n2、第二則"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_saving_at_once_keep_both_updates(
    postgres, imported_seed, platform, make_meeting, monkeypatch
):
    """Two concurrent requests on PostgreSQL. The composing step is slowed down so that, without
    the item's row lock, the second writer would overwrite the first one's 現辦理情形."""
    from datetime import date

    from tests import factories

    item = TrackedItem.objects.get(case_no="108-09-02")
    item.division = platform
    item.save()
    october = make_meeting(date(2019, 10, 15))
    meeting_saved(meeting=october)
    clerks = [factories.bureau_staff(username=f"clerk-{n}", division=platform) for n in (1, 2)]
    original = services._compose_status

    def slow_compose(texts):
        import time

        time.sleep(0.4)
        return original(texts)

    monkeypatch.setattr(services, "_compose_status", slow_compose)
    barrier = threading.Barrier(2)
    statuses = []

    def save(clerk, text):
        try:
            client = Client()
            client.force_login(clerk)
            barrier.wait()
            statuses.append(_post(client, item, text).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(clerk, f"{clerk.username} 的辦理情形"))
        for clerk in clerks
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [302, 302]
    assert StatusUpdate.objects.filter(item=item).count() == 2
    current = Review.objects.get(item=item, meeting=october).current_status
    assert "clerk-1 的辦理情形" in current and "clerk-2 的辦理情形" in current
