"""A cycle where many VMs start, fire and end streaks at once writes in bulk: the number of
queries does not grow with the number of VMs, and the outcome is the one-at-a-time outcome."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.vmquota import factories
from tests.vmquota.traces import at
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import store
from vmquota.models import Action, Exemption, Incident, StreakState

pytestmark = pytest.mark.django_db


def cycle_queries(now):
    with CaptureQueriesContext(connection) as ctx:
        evaluate_cycle(now=now)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("count", [20, 80])
def test_many_vms_firing_at_once_cost_a_bounded_number_of_queries(
    count, xindian_school, jiangcui_school, settings
):
    settings.VMQUOTA_HYPERVISOR_ADAPTER = "dryrun"
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the actions' work is not the cycle's
    factories.seed_policy()
    vms = [factories.vm(f"vm{i:03d}", xindian_school) for i in range(count)]
    exempt = factories.vm("jc-exempt", jiangcui_school)
    Exemption.objects.create(school=jiangcui_school, starts_at=at(-60), ends_at=at(120),
                             reason="壓力測試")  # fmt: skip
    store([(vm.pk, at(m), 97.0, 1.0) for vm in [*vms, exempt] for m in range(31)])
    queries = cycle_queries(at(31))
    # fires: one incident (≥ 95 %) and one alert per VM; the exempted school's VM: no action
    assert Incident.objects.filter(vm__in=vms, exempted=False).count() == count
    assert Incident.objects.get(vm=exempt).exempted
    assert Action.objects.filter(kind="alert").count() == count
    assert StreakState.objects.count() == count + 1
    assert queries < 330, queries  # ≈ 18 a shard × 16, whatever the number of VMs

    # all recover at once: every incident ends "recovered" in one cycle
    store([(vm.pk, at(31), 10.0, 1.0) for vm in [*vms, exempt]])
    queries = cycle_queries(at(31))
    assert set(Incident.objects.values_list("end_reason", flat=True)) == {"recovered"}
    assert not StreakState.objects.exists()
    assert queries < 330, queries
