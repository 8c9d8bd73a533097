"""Actions: alert e-mail once per streak, suspend through libvirt's test driver, retries and the
operator alert, resume, exemptions. Tasks run eagerly; on_commit callbacks are executed."""

from datetime import timedelta

import pytest

from tests.vmquota import factories
from tests.vmquota.traces import at
from vmquota.actions import action_perform, reminders_queue, vm_resume_request
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.hypervisors import HypervisorError
from vmquota.ingest import store
from vmquota.models import Action, Exemption, Incident, VmStateChange

libvirt = pytest.importorskip("libvirt")
pytestmark = pytest.mark.django_db
TEST_DOMAIN = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # the `test` domain of test:///default


@pytest.fixture
def domain():
    from vmquota.hypervisors.libvirt import forget_connections

    conn = libvirt.open("test:///default")
    dom = conn.lookupByUUIDString(TEST_DOMAIN)
    if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
        dom.resume()
    yield dom
    if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
        dom.resume()
    forget_connections()


@pytest.fixture
def pegged(xindian_school, coordinator, domain, settings):
    settings.VMQUOTA_HYPERVISOR_ADAPTER = "libvirt"
    factories.seed_policy()
    vm = factories.vm("test", xindian_school, uid=TEST_DOMAIN)
    store([(vm.pk, at(m), 100.0, 5.0) for m in range(31)])
    return vm


def run_cycle(capture, now):
    with capture(execute=True):
        return evaluate_cycle(now=now)


def test_pegged_vm_is_suspended_once_and_the_school_gets_one_notice(
    pegged, domain, mailoutbox, django_capture_on_commit_callbacks
):
    run_cycle(django_capture_on_commit_callbacks, at(31))
    run_cycle(django_capture_on_commit_callbacks, at(31))
    assert domain.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    suspend = Action.objects.get(kind="suspend")
    assert (suspend.status, suspend.observed_state) == ("done", "paused")
    assert Action.objects.get(kind="alert").folded_into == suspend
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert "已被暫停" in mail.subject and "CPU ≥ 95 %" in mail.body and "如何申請恢復" in mail.body
    assert "xindian-coordinator@ntpc.edu.tw" in mail.to and "ops@ntpc.edu.tw" in mail.to
    pegged.refresh_from_db()
    assert pegged.state == "paused"
    assert VmStateChange.objects.filter(vm=pegged, new="paused").count() == 1


def test_suspending_an_already_paused_domain_counts_as_done(pegged, domain,
                                                             django_capture_on_commit_callbacks):  # fmt: skip
    domain.suspend()
    run_cycle(django_capture_on_commit_callbacks, at(31))
    assert Action.objects.get(kind="suspend").status == "done"


def test_resume_calls_the_hypervisor_and_tells_the_school(
    pegged, domain, bureau, mailoutbox, django_capture_on_commit_callbacks
):
    run_cycle(django_capture_on_commit_callbacks, at(31))
    with django_capture_on_commit_callbacks(execute=True):
        vm_resume_request(vm=pegged, actor=bureau, reason="已移除挖礦程式")
    assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    resume = Action.objects.get(kind="resume")
    assert (resume.status, resume.observed_state, resume.requested_by) == (
        "done",
        "running",
        bureau,
    )
    assert "已恢復執行" in mailoutbox[-1].subject and "已移除挖礦程式" in mailoutbox[-1].body


def test_a_transient_failure_is_retried_then_the_operator_is_alerted(
    pegged, monkeypatch, mailoutbox, settings, django_capture_on_commit_callbacks
):
    from vmquota.hypervisors.libvirt import LibvirtAdapter

    settings.VMQUOTA_ACTION_MAX_ATTEMPTS = 2

    def down(self, uuid):
        raise HypervisorError("connection refused")

    monkeypatch.setattr(LibvirtAdapter, "suspend", down)
    with django_capture_on_commit_callbacks(execute=False):
        evaluate_cycle(now=at(31))
    suspend = Action.objects.get(kind="suspend")
    from vmquota.actions import ActionRetry

    with pytest.raises(ActionRetry):
        action_perform(action_id=suspend.pk)
    suspend.refresh_from_db()
    assert (suspend.status, suspend.attempts) == ("pending", 1)
    assert action_perform(action_id=suspend.pk) == "not_claimed"  # back-off not over yet
    Action.objects.filter(pk=suspend.pk).update(next_attempt_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert action_perform(action_id=suspend.pk) == "failed"
    (ops,) = [m for m in mailoutbox if "處置失敗" in m.subject]
    assert ops.to == ["ops@ntpc.edu.tw"]


def test_a_permanent_failure_is_not_retried(
    pegged, monkeypatch, django_capture_on_commit_callbacks
):
    from vmquota.hypervisors.libvirt import LibvirtAdapter

    monkeypatch.setattr(LibvirtAdapter, "suspend",
                        lambda self, uuid: (_ for _ in ()).throw(HypervisorError("no domain", permanent=True)))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        evaluate_cycle(now=at(31))
    suspend = Action.objects.get(kind="suspend")
    with django_capture_on_commit_callbacks(execute=False):
        assert action_perform(action_id=suspend.pk) == "failed"
    assert Action.objects.filter(kind="operator").count() == 1


def test_an_exempted_vm_is_recorded_but_not_touched(
    pegged, domain, bureau, mailoutbox, django_capture_on_commit_callbacks
):
    Exemption.objects.create(school=pegged.school, starts_at=at(-60), ends_at=at(120),
                             reason="資訊競賽壓力測試", granted_by=bureau)  # fmt: skip
    run_cycle(django_capture_on_commit_callbacks, at(31))
    assert Incident.objects.filter(exempted=True).count() == 2
    assert not Action.objects.exists() and not mailoutbox
    assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_alert_then_resolved_and_reminders_every_4_hours(
    xindian_school, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    factories.seed_policy()
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, at(m), 97.0, 5.0) for m in range(31)])
    run_cycle(django_capture_on_commit_callbacks, at(31))
    assert [m.subject for m in mailoutbox] == [
        "【虛擬機房告警】xd-web：CPU ≥ 95 % 連續 30 分鐘 → 告警"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_queue(now=at(30) + timedelta(hours=4)) == 1
        assert reminders_queue(now=at(30) + timedelta(hours=5)) == 0
    assert "提醒" in mailoutbox[-1].subject
    store([(vm.pk, at(31), 10.0, 5.0)])
    run_cycle(django_capture_on_commit_callbacks, at(32))
    assert "已恢復正常" in mailoutbox[-1].subject
    assert len(mailoutbox) == 3


def test_the_suspend_is_skipped_when_the_streak_ended_before_the_worker_got_to_it(
    pegged, domain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        evaluate_cycle(now=at(31))
        store([(pegged.pk, at(31), 3.0, 0.0)])
        evaluate_cycle(now=at(32))
    suspend = Action.objects.get(kind="suspend")
    assert action_perform(action_id=suspend.pk) == "skipped"
    assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING


# --- an alert is never lost -----------------------------------------------------------------------


def to_school(mailoutbox):
    return [m for m in mailoutbox if "xindian-coordinator@ntpc.edu.tw" in m.to]


def test_a_suspension_whose_worker_died_and_whose_streak_ended_meanwhile_still_tells_the_school(
    pegged, domain, mailoutbox, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from vmquota.actions import action_claim, actions_requeue

    with django_capture_on_commit_callbacks(execute=False):  # the worker never finishes …
        evaluate_cycle(now=at(31))
    suspend = Action.objects.get(kind="suspend")
    assert action_claim(suspend.pk)  # … it claimed the suspension and was killed
    store([(pegged.pk, at(31), 3.0, 0.0)])  # the streak ends while the row says "running"
    run_cycle(django_capture_on_commit_callbacks, at(32))
    assert not mailoutbox  # no "resolved" for an alert the school never got

    with django_capture_on_commit_callbacks(execute=True):  # the requeue beat, 11 minutes on
        actions_requeue(now=timezone.now() + timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):  # and every delivery once more
        for action in Action.objects.all():
            assert action_perform(action_id=action.pk) == "not_claimed"

    suspend.refresh_from_db()
    assert suspend.status == "skipped" and domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    (notice,) = to_school(mailoutbox)
    assert "達到暫停條件（未暫停）" in notice.subject and "事件在暫停前已結束" in notice.body
    assert "CPU ≥ 100 %" in notice.body and "CPU ≥ 95 %" in notice.body  # the folded alert
    assert "ops@ntpc.edu.tw" in notice.to and len(mailoutbox) == 1
    stand_in = Action.objects.get(kind="alert", incident=suspend.incident)
    assert stand_in.status == "done"
    assert Action.objects.get(kind="alert", incident__rule__threshold=95).folded_into == stand_in
    assert not Action.objects.filter(status__in=["pending", "running"]).exists()


def test_an_alert_whose_worker_died_is_sent_once_even_after_its_streak_ended(
    xindian_school, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from vmquota.actions import action_claim, actions_requeue

    factories.seed_policy()
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, at(m), 97.0, 5.0) for m in range(31)])
    with django_capture_on_commit_callbacks(execute=False):
        evaluate_cycle(now=at(31))
    alert = Action.objects.get(kind="alert")
    assert action_claim(alert.pk)  # the worker that claimed it is killed
    store([(vm.pk, at(31), 10.0, 5.0)])
    run_cycle(django_capture_on_commit_callbacks, at(32))
    with django_capture_on_commit_callbacks(execute=True):
        actions_requeue(now=timezone.now() + timedelta(minutes=11))
        actions_requeue(now=timezone.now() + timedelta(minutes=12))

    (mail,) = mailoutbox
    assert mail.subject == "【虛擬機房告警】xd-web：CPU ≥ 95 % 連續 30 分鐘 → 告警"
    assert "結束：" in mail.body and "已恢復" in mail.body
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("done", 2)


def test_a_suspension_the_hypervisor_refuses_hands_its_alert_to_the_school(
    pegged, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    from vmquota.hypervisors.libvirt import LibvirtAdapter

    def refuse(self, uuid):
        raise HypervisorError("no domain", permanent=True)

    monkeypatch.setattr(LibvirtAdapter, "suspend", refuse)
    run_cycle(django_capture_on_commit_callbacks, at(31))
    assert Action.objects.get(kind="suspend").status == "failed"
    (notice,) = to_school(mailoutbox)
    assert "未暫停" in notice.subject and "已通知維運人員" in notice.body
    assert "CPU ≥ 95 %" in notice.body
    assert len([m for m in mailoutbox if "處置失敗" in m.subject]) == 1


def test_late_data_that_withdraws_a_suspension_releases_the_alert_it_held(
    pegged, domain, mailoutbox, django_capture_on_commit_callbacks
):
    from vmquota.models import UsageSample

    UsageSample.objects.filter(vm=pegged, ts=at(15)).delete()  # a minute not yet delivered
    with django_capture_on_commit_callbacks(execute=False):
        evaluate_cycle(now=at(31))
    assert Action.objects.get(kind="alert").status == "folded"
    store([(pegged.pk, at(15), 97.0, 5.0)])  # late: ≥ 95 held throughout, ≥ 100 did not
    run_cycle(django_capture_on_commit_callbacks, at(32))

    suspend = Action.objects.get(kind="suspend")
    assert suspend.status == "skipped" and suspend.incident.withdrawn_at is not None
    assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    (mail,) = to_school(mailoutbox)
    assert mail.subject == "【虛擬機房告警】test：CPU ≥ 95 % 連續 30 分鐘 → 告警"
    assert Action.objects.get(kind="alert").status == "done"


# --- a suspension ends the VM's streaks; a resumed VM starts fresh --------------------------------


def minutes_ago(n):
    from django.utils import timezone

    return timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=n)


@pytest.fixture
def pegged_now(xindian_school, coordinator, domain, settings):
    """The same VM pegged on CPU and network over the last 31 minutes (the clock matters here: a
    suspension happens now)."""
    settings.VMQUOTA_HYPERVISOR_ADAPTER = "libvirt"
    factories.seed_policy(effective_from=minutes_ago(24 * 60))
    vm = factories.vm("test", xindian_school, uid=TEST_DOMAIN)
    store([(vm.pk, minutes_ago(40 - m), 100.0, 26000.0) for m in range(31)])
    return vm


def test_a_suspension_ends_every_open_streak_and_sends_one_notice_naming_every_rule(
    pegged_now, domain, mailoutbox, django_capture_on_commit_callbacks
):
    from vmquota.models import StreakState
    from vmquota.selectors import board

    run_cycle(django_capture_on_commit_callbacks, minutes_ago(9))
    assert domain.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    assert Incident.objects.count() == 4  # both CPU rules and both network rules fired
    (done,) = Action.objects.filter(kind="suspend", status="done")
    assert Action.objects.filter(kind="suspend", status="folded", folded_into=done).count() == 1
    assert Action.objects.filter(kind="alert", status="folded", folded_into=done).count() == 2
    (notice,) = mailoutbox
    assert "已被暫停" in notice.subject
    for rule in ("CPU ≥ 95 %", "CPU ≥ 100 %", "網路 ≥ 23040 KB/s", "網路 ≥ 25600 KB/s"):
        assert rule in notice.body
    assert set(Incident.objects.values_list("end_reason", flat=True)) == {"suspended"}
    assert not StreakState.objects.exists()
    assert board()["open"] == []
    # the next cycles change nothing and send nothing
    run_cycle(django_capture_on_commit_callbacks, minutes_ago(8))
    assert len(mailoutbox) == 1 and VmStateChange.objects.filter(new="paused").count() == 1


def test_samples_from_before_the_suspension_are_not_judged_again(
    pegged_now, domain, mailoutbox, django_capture_on_commit_callbacks
):
    from vmquota.models import StreakState

    run_cycle(django_capture_on_commit_callbacks, minutes_ago(9))
    store([(pegged_now.pk, minutes_ago(9), 100.0, 26000.0)])  # measured before, evaluated after
    run_cycle(django_capture_on_commit_callbacks, minutes_ago(8))
    assert not StreakState.objects.exists()
    assert not Incident.objects.filter(ended_at__isnull=True).exists()


def test_a_resumed_vm_starts_fresh(
    pegged_now, domain, bureau, mailoutbox, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from vmquota.models import StreakState

    run_cycle(django_capture_on_commit_callbacks, minutes_ago(9))
    with django_capture_on_commit_callbacks(execute=True):
        vm_resume_request(vm=pegged_now, actor=bureau, reason="已移除挖礦程式")
    assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    later = timezone.now() + timedelta(seconds=1)
    store([(pegged_now.pk, later, 100.0, 26000.0)])
    run_cycle(django_capture_on_commit_callbacks, later)
    starts = set(StreakState.objects.values_list("start_ts", flat=True))
    assert starts == {later}  # a new streak from the first sample after the resume
    assert not Incident.objects.filter(ended_at__isnull=True).exists()


def test_the_incident_page_tells_which_rule_when_it_started_fired_ended_and_what_was_done(
    pegged_now,
    domain,
    bureau,
    coordinator,
    other_coordinator,
    login,
    django_capture_on_commit_callbacks,
):
    from portal.rocdate import format_datetime

    run_cycle(django_capture_on_commit_callbacks, minutes_ago(9))
    with django_capture_on_commit_callbacks(execute=True):
        vm_resume_request(vm=pegged_now, actor=bureau, reason="已移除挖礦程式")
    incident = Incident.objects.get(rule__threshold=100)
    client = login(coordinator)
    vm_page = client.get(f"/vmquota/vms/{pegged_now.pk}/").content.decode()
    assert f"/vmquota/incidents/{incident.pk}/" in vm_page
    page = client.get(f"/vmquota/incidents/{incident.pk}/").content.decode()
    assert "CPU ≥ 100 % 連續 30 分鐘 → 暫停虛擬機" in page
    assert format_datetime(incident.streak_start) in page
    assert format_datetime(incident.fired_at) in page
    assert "（已暫停）" in page
    assert "暫停虛擬機" in page and "恢復虛擬機" in page and "已移除挖礦程式" in page
    assert "執行中 → 已暫停" in page and "已暫停 → 執行中" in page
    assert bureau.display_name in page  # who resumed it
    network_alert = Incident.objects.get(rule__threshold=23040)
    page = client.get(f"/vmquota/incidents/{network_alert.pk}/").content.decode()
    assert "併入「CPU ≥ 100 % 連續 30 分鐘 → 暫停虛擬機」的暫停通知" in page
    assert login(other_coordinator).get(f"/vmquota/incidents/{incident.pk}/").status_code == 403


def test_states_and_durations_are_in_chinese_on_the_pages_and_in_the_resume_mail(
    pegged_now, domain, bureau, login, mailoutbox, django_capture_on_commit_callbacks
):
    from vmquota.templatetags.vmquota import duration_zh

    assert [duration_zh(timedelta(minutes=m)) for m in (5, 90, 24 * 60)] == [
        "5 分鐘", "1 小時 30 分鐘", "1 天"]  # fmt: skip
    run_cycle(django_capture_on_commit_callbacks, minutes_ago(9))
    with django_capture_on_commit_callbacks(execute=True):
        vm_resume_request(vm=pegged_now, actor=bureau, reason="已移除挖礦程式")
    page = login(bureau).get(f"/vmquota/vms/{pegged_now.pk}/").content.decode()
    assert "已暫停" in page and "執行中" in page
    assert ">paused<" not in page and ">running<" not in page
    assert "讀回狀態：執行中" in mailoutbox[-1].body
