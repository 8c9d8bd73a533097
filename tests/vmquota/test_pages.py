"""Pages: who sees what, the VM page's chart and streaks, the board, publishing, what-if."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.vmquota import factories
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import Incident, PolicyVersion, WhatIfRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def recent_version():
    return factories.seed_policy(effective_from=timezone.now() - timedelta(days=31))


def minutes_ago(m):
    return timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=m)


@pytest.fixture
def busy_vm(xindian_school, recent_version):
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, minutes_ago(m), 96.0, 100.0) for m in range(22, -1, -1)])
    evaluate_cycle()
    return vm


def test_coordinator_sees_own_school_vm_with_its_current_streak(login, coordinator, busy_vm):
    page = login(coordinator).get(f"/vmquota/vms/{busy_vm.pk}/").content.decode()
    assert "CPU ≥ 95 %" in page and "已持續 22/30 分鐘" in page
    assert "<svg" in page and "vmq-threshold" in page and "以表格檢視圖表數值" in page
    assert "恢復執行" not in page


def test_coordinator_is_sent_to_their_school_and_cannot_see_another(
    login, coordinator, other_coordinator, busy_vm
):
    client = login(other_coordinator)
    assert client.get(f"/vmquota/vms/{busy_vm.pk}/").status_code == 403
    assert client.get("/vmquota/schools/014632/").status_code == 403
    response = login(coordinator).get("/vmquota/")
    assert response.status_code == 302 and response["Location"].endswith("/vmquota/schools/014632/")


def test_board_is_for_bureau_staff_only(login, coordinator, bureau, busy_vm):
    assert login(coordinator).get("/vmquota/board/").status_code == 403
    assert login(bureau).get("/vmquota/board/").status_code == 200


def test_incidents_are_shaded_on_the_chart(login, bureau, xindian_school, recent_version):
    vm = factories.vm("xd-hot", xindian_school)
    store([(vm.pk, minutes_ago(m), 99.0, 100.0) for m in range(40, -1, -1)])
    evaluate_cycle()
    assert Incident.objects.filter(vm=vm).count() == 1
    page = login(bureau).get(f"/vmquota/vms/{vm.pk}/").content.decode()
    assert 'class="vmq-incident"' in page


def _many(school, n, version):
    for i in range(n):
        vm = factories.vm(f"vm-{n}-{i}", school)
        store([(vm.pk, minutes_ago(m), 99.0, 100.0) for m in range(35, -1, -1)])
    evaluate_cycle()


@pytest.mark.parametrize("n", [1, 6])
def test_board_query_count_does_not_grow(login, bureau, xindian_school, recent_version, n,
                                        django_assert_max_num_queries):  # fmt: skip
    _many(xindian_school, n, recent_version)
    client = login(bureau)
    with django_assert_max_num_queries(13):
        assert client.get("/vmquota/board/").status_code == 200


@pytest.mark.parametrize("minutes", [10, 1400])
def test_vm_page_query_count_does_not_grow(login, bureau, xindian_school, recent_version, minutes,
                                          django_assert_max_num_queries):  # fmt: skip
    vm = factories.vm("xd-web", xindian_school)
    store([(vm.pk, minutes_ago(m), 99.0 if m % 50 < 40 else 1.0, 100.0) for m in range(minutes)])
    evaluate_cycle()
    client = login(bureau)
    with django_assert_max_num_queries(15):
        assert client.get(f"/vmquota/vms/{vm.pk}/").status_code == 200


def roc(dt):
    local = timezone.localtime(dt)
    return f"{local.year - 1911}/{local.month}/{local.day} {local:%H:%M}"


def test_the_new_version_form_prefills_its_effective_time_in_roc(login, bureau, recent_version):
    from portal.forms_fields import ROCDateTimeField
    from vmquota.forms import ExemptionForm, VersionForm

    page = login(bureau).get("/vmquota/policy/new/").content.decode()
    soon = timezone.localtime().replace(second=0, microsecond=0) + timedelta(hours=1)
    assert f'value="{roc(soon)}"' in page and 'type="datetime-local"' not in page
    assert isinstance(VersionForm.base_fields["effective_from"], ROCDateTimeField)
    assert isinstance(ExemptionForm.base_fields["starts_at"], ROCDateTimeField)
    assert "資料中斷超過 5 分鐘視為" in login(bureau).get("/vmquota/policy/").content.decode()


def test_publishing_asks_first_and_shows_what_changes(
    login, bureau, coordinator, mailoutbox, recent_version, django_capture_on_commit_callbacks
):
    form = {
        "effective_from": roc(timezone.now() + timedelta(hours=1)), "max_gap_minutes": "10",
        "announcement": "CPU 告警門檻調整為 90%。",
        "rules-TOTAL_FORMS": "2", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "1",
        "rules-MAX_NUM_FORMS": "20", "rules-0-metric": "cpu_percent", "rules-0-threshold": "90",
        "rules-0-minutes": "30", "rules-0-action": "alert", "rules-0-mode": "enforce",
        "rules-1-metric": "cpu_percent", "rules-1-threshold": "100",
        "rules-1-minutes": "30", "rules-1-action": "suspend", "rules-1-mode": "enforce",
    }  # fmt: skip
    client = login(bureau)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/vmquota/policy/new/", form).content.decode()
    assert PolicyVersion.objects.count() == 1 and not mailoutbox  # nothing published yet
    assert "確認發布並通知資訊組長" in page
    assert "<del>CPU ≥ 95 % 連續 30 分鐘 → 告警</del>" in page
    assert "<ins>CPU ≥ 90 % 連續 30 分鐘 → 告警</ins>" in page
    assert "<del>網路 ≥ 25600 KB/s 連續 30 分鐘 → 暫停虛擬機</del>" in page  # removed
    assert "<ins>容許資料中斷 10 分鐘</ins>" in page
    assert "不變" in page  # the ≥ 100 % suspension stays
    back = client.post("/vmquota/policy/new/", {**form, "edit": "1"}).content.decode()
    assert 'value="90.0"' in back or 'value="90"' in back
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/vmquota/policy/new/", {**form, "confirm": "1"})
    assert response.status_code == 302 and PolicyVersion.objects.count() == 2
    assert len(mailoutbox) == 1


def test_publishing_a_version_mails_every_coordinator_and_shows_on_home(
    login, bureau, coordinator, other_coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    form = {
        "confirm": "1",
        "effective_from": roc(timezone.now() + timedelta(hours=1)),
        "max_gap_minutes": "5", "announcement": "CPU 告警門檻調整為 90%。",
        "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "1",
        "rules-MAX_NUM_FORMS": "20", "rules-0-metric": "cpu_percent", "rules-0-threshold": "90",
        "rules-0-minutes": "30", "rules-0-action": "alert", "rules-0-mode": "observe",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(bureau).post("/vmquota/policy/new/", form)
    assert response.status_code == 302
    assert PolicyVersion.objects.get().rules.get().threshold == 90
    assert sorted(m.to[0] for m in mailoutbox) == [
        "jiangcui-coordinator@ntpc.edu.tw", "xindian-coordinator@ntpc.edu.tw"]  # fmt: skip
    assert "CPU 告警門檻調整為 90%" in login(coordinator).get("/").content.decode()


def test_a_version_cannot_be_backdated(login, bureau):
    form = {
        "effective_from": "108/9/1 08:00", "max_gap_minutes": "5", "announcement": "x",
        "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "1",
        "rules-MAX_NUM_FORMS": "20", "rules-0-metric": "cpu_percent", "rules-0-threshold": "90",
        "rules-0-minutes": "30", "rules-0-action": "alert", "rules-0-mode": "enforce",
    }  # fmt: skip
    assert "不溯及既往" in login(bureau).post("/vmquota/policy/new/", form).content.decode()
    assert not PolicyVersion.objects.exists()


def test_whatif_counts_per_school(login, bureau, busy_vm, django_capture_on_commit_callbacks):
    form = {
        "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "1",
        "rules-MAX_NUM_FORMS": "20", "rules-0-metric": "cpu_percent", "rules-0-threshold": "90",
        "rules-0-minutes": "10", "rules-0-action": "alert", "rules-0-mode": "enforce",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = login(bureau).post("/vmquota/whatif/", form)
    run = WhatIfRun.objects.get()
    assert run.result["rows"] == [{"school": "新店國小", "current": {}, "draft": {"alert": 1}}]
    assert "新店國小" in login(bureau).get(response["Location"]).content.decode()


def test_csv_backfill_validates_all_rows_first(login, bureau, busy_vm):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vmquota.models import UsageSample

    before = UsageSample.objects.count()
    hour_ago = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    ten, ten_one = hour_ago.isoformat(), (hour_ago + timedelta(minutes=1)).isoformat()
    bad = f"vm,ts,cpu_percent,net_kbps\nxd-web,{ten},5,0\nxd-web,{ten_one},101,0\n"
    page = login(bureau).post(
        "/vmquota/upload/", {"file": SimpleUploadedFile("t.csv", bad.encode())}
    )
    assert "第 3 行「cpu_percent」" in page.content.decode()
    assert UsageSample.objects.count() == before
    good = bad.replace(",101,", ",100,")
    login(bureau).post("/vmquota/upload/", {"file": SimpleUploadedFile("t.csv", good.encode())})
    assert UsageSample.objects.count() == before + 2


def test_tokens_page_shows_a_new_token_once(login, bureau):
    client = login(bureau)
    host = factories.hypervisor()
    page = client.post(
        "/vmquota/tokens/", {"name": "主機 1", "hypervisors": [host.pk]}
    ).content.decode()
    assert "vmq_" in page and "只顯示這一次" in page
    assert "只顯示這一次" not in client.get("/vmquota/tokens/").content.decode()


def test_the_cached_home_block_shows_an_incident_the_evaluator_opened(login, coordinator, busy_vm):
    client = login(coordinator)
    assert "您學校的虛擬機目前沒有事件" in client.get("/").content.decode()  # cached now
    # eight more busy minutes: the 30-minute streak fires (the evaluator writes in bulk)
    store([(busy_vm.pk, minutes_ago(0) + timedelta(minutes=m), 97.0, 100.0) for m in range(1, 9)])
    evaluate_cycle(now=timezone.now() + timedelta(minutes=9))
    assert Incident.objects.filter(vm=busy_vm).exists()
    page = client.get("/").content.decode()
    assert "xd-web</a>：" in page and "您學校的虛擬機目前沒有事件" not in page


def test_the_vm_pages_sections_are_built_once_a_minute_for_every_reader(
    login, coordinator, bureau, busy_vm, monkeypatch
):
    from vmquota import selectors

    calls = []
    real = selectors.vm_page
    monkeypatch.setattr(
        selectors, "vm_page", lambda vm, **kw: calls.append(vm.pk) or real(vm, **kw)
    )
    first = login(coordinator).get(f"/vmquota/vms/{busy_vm.pk}/").content.decode()
    second = login(bureau).get(f"/vmquota/vms/{busy_vm.pk}/").content.decode()
    assert calls == [busy_vm.pk]
    assert "已持續 22/30 分鐘" in first and "已持續 22/30 分鐘" in second
    assert "指派學校" in second and "指派學校" not in first  # the forms are not in the fragment


def test_the_vm_page_shows_an_exemption_at_once(login, coordinator, bureau, busy_vm):
    from vmquota.exemptions import exemption_grant

    client = login(coordinator)
    assert "豁免測試（頁面）" not in client.get(f"/vmquota/vms/{busy_vm.pk}/").content.decode()
    exemption_grant(actor=bureau, vm=busy_vm, starts_at=timezone.now(),
                    ends_at=timezone.now() + timedelta(days=1), reason="豁免測試（頁面）")  # fmt: skip
    assert "豁免測試（頁面）" in client.get(f"/vmquota/vms/{busy_vm.pk}/").content.decode()
