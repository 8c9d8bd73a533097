"""End to end on PostgreSQL + Redis + a real Celery worker + Chromium:

samples posted through the API for a VM of libvirt's test driver, pegged at 100 % for 31 minutes
→ one e-mail (the suspension notice with the ≥ 95 % alert folded in), one suspension (the domain
is paused), and after `bureau` resumes it in the browser the domain runs again.

The test driver keeps a `test:///file.xml` domain's state inside one connection of one process,
so the domain's state is observed where the change is made: the worker's adapter reads the state
back after each call and the action row records it (`observed_state`). Suspend and resume both
run in the same worker child (concurrency 1), on the same cached connection – the resume really
un-pauses the domain the suspend paused. See docs/vmquota.md, "End-to-end design".
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import WorkerProcess, browser_login, use_broker, wait_for
from tests.factories import bureau_staff, coordinator_of
from tests.vmquota import factories
from vmquota.models import Action, CollectorToken, Hypervisor, VirtualMachine

pytest.importorskip("libvirt")


def decoded(text):
    """A message written by Django's file backend → its subject and body, decoded."""
    import email
    from email.header import decode_header, make_header
    from email.policy import default

    msg = email.message_from_bytes(text.split("-" * 79)[0].encode(), policy=default)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    return f"{make_header(decode_header(msg['Subject']))}\n{msg['To']}\n{body}"


pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.browser]

UUID = "2f1f6c3e-9d0b-4c59-9a59-3c4b8d2e7a11"
HOSTS = f"""<node>
  <domain type="test">
    <name>xdes-moodle</name><uuid>{UUID}</uuid>
    <memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os>
  </domain>
</node>"""


@pytest.fixture
def worker(postgres, transactional_db, redis_url, tmp_path):
    """tests.conftest's celery_worker_process, with an absolute mail folder: django-environ reads
    `filemail:///tmp/x` as the relative path `tmp/x` (four slashes keep it absolute)."""
    from portal.celery import app

    saved_url, saved_eager = app.conf.broker_url, app.conf.task_always_eager
    use_broker(app, redis_url)
    app.conf.task_always_eager = False
    process = WorkerProcess(tmp_path, redis_url)
    process.env["EMAIL_URL"] = f"filemail:///{process.mail_dir}"
    process.env["VMQUOTA_HYPERVISOR_ADAPTER"] = "libvirt"
    process.start()
    try:
        yield process
    finally:
        process.stop()
        app.conf.task_always_eager = saved_eager
        use_broker(app, saved_url)


def test_pegged_vm_is_alerted_suspended_and_resumed(
    worker, xindian_school, client, page, screenshot, tmp_path
):
    celery_worker_process = worker
    hosts = tmp_path / "hosts.xml"
    hosts.write_text(HOSTS)
    hv = Hypervisor.objects.create(name="測試機房", uri=f"test://{hosts}")
    vm = VirtualMachine.objects.create(hypervisor=hv, name="xdes-moodle", uuid=UUID, vcpus=2,
                                       school=xindian_school, state="running")  # fmt: skip
    coordinator_of(xindian_school, username="xindian-coordinator")
    bureau_staff(username="bureau")
    factories.seed_policy(effective_from=timezone.now() - timedelta(days=1))
    wait_for(lambda: len(worker.sent_mail()) == 1, message="the policy announcement")
    for path in worker.mail_dir.glob("*.log"):
        path.unlink()  # the announcement of the seed policy is not what this test is about
    _, token = CollectorToken.issue(name="e2e collector", hypervisors=Hypervisor.objects.all())

    end = timezone.now().replace(microsecond=0)
    samples = [
        {"vm": "xdes-moodle", "ts": (end - timedelta(minutes=30 - i)).isoformat(),
         "cpu_percent": 100, "net_kbps": 26000}
        for i in range(31)
    ]  # fmt: skip
    response = client.post("/api/vmquota/samples", json.dumps({"samples": samples}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.json() == {"received": 31, "stored": 31, "duplicates": 0}

    suspend = wait_for(
        lambda: Action.objects.filter(vm=vm, kind="suspend", status="done").first(),
        timeout=60, message="the worker to suspend the VM",
    )  # fmt: skip
    assert suspend.observed_state == "paused"
    # CPU and network both fired their suspension rule: one suspension, one notice naming all
    assert Action.objects.filter(vm=vm, kind="suspend", status="folded").count() == 1
    assert set(Action.objects.filter(vm=vm, kind="alert").values_list("status", flat=True)) == {
        "folded"}  # fmt: skip
    mail = wait_for(lambda: celery_worker_process.sent_mail(), message="the suspension notice")
    assert len(mail) == 1
    notice = decoded(mail[0])
    assert "虛擬機 xdes-moodle 已被暫停" in notice
    assert "CPU ≥ 100 % 連續 30 分鐘" in notice and "CPU ≥ 95 % 連續 30 分鐘 → 告警" in notice
    assert "網路 ≥ 25600 KB/s" in notice and "網路 ≥ 23040 KB/s" in notice
    assert "xindian-coordinator@ntpc.edu.tw" in notice
    vm.refresh_from_db()
    assert vm.state == "paused"

    # resending the same samples changes nothing
    client.post("/api/vmquota/samples", json.dumps({"samples": samples}),
                content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip

    browser_login(page, "bureau")
    page.goto(f"/vmquota/vms/{vm.pk}/")
    screenshot(page, "vmquota-vm-suspended")
    page.get_by_role("button", name="恢復執行").click()
    page.get_by_text("已送出恢復執行").wait_for()

    resume = wait_for(
        lambda: Action.objects.filter(vm=vm, kind="resume", status="done").first(),
        timeout=60, message="the worker to resume the VM",
    )  # fmt: skip
    assert resume.observed_state == "running"
    vm.refresh_from_db()
    assert vm.state == "running"
    mail = wait_for(lambda: len(celery_worker_process.sent_mail()) == 2 and celery_worker_process.sent_mail(),
                    message="the resume notice")  # fmt: skip
    assert any("xdes-moodle 已恢復執行" in decoded(m) for m in mail)
    assert Action.objects.filter(vm=vm, kind="suspend", status="done").count() == 1
    page.goto(f"/vmquota/vms/{vm.pk}/")
    assert page.get_by_text("已達 30 分鐘").count() == 0  # the suspension ended the streaks
    assert page.get_by_text("進行中").count() == 0
    screenshot(page, "vmquota-vm")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "vmquota-vm")
    page.goto("/vmquota/board/")
    assert page.get_by_role("heading", name="進行中事件（0）").count() == 1
    assert page.locator("#h-recent + * tbody tr").count() == 4
    assert page.get_by_text("（已暫停）").count() == 4
    screenshot(page, "vmquota-board")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "vmquota-board")
    page.get_by_role("link", name="CPU ≥ 100 % 連續 30 分鐘 → 暫停虛擬機").click()
    page.get_by_text("已暫停 → 執行中").wait_for()  # the incident page: who resumed it, when
    screenshot(page, "vmquota-incident")
