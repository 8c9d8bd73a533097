"""Collection from the hypervisors: their inventory as VMs, one usage sample per running VM a
poll (rates from the counters' deltas), and the purge of samples past the retention."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import rollup
from .actions import vm_state_set
from .hypervisors import HypervisorError, get_adapter
from .ingest import accepted_window, nudge_evaluation, sample_errors, store
from .models import SampleRollup, UsageSample, VirtualMachine

log = logging.getLogger("vmquota")


def inventory_sync(*, hypervisor):
    """Add the hypervisor's domains as VMs (unassigned) and refresh their state."""
    try:
        domains = get_adapter(hypervisor).list_domains()
    except HypervisorError as exc:
        hypervisor.last_error = str(exc)[:2000]
        hypervisor.save(update_fields=["last_error"])
        return 0
    for dom in domains:
        vm, created = VirtualMachine.objects.get_or_create(
            uuid=dom.uuid,
            defaults={"hypervisor": hypervisor, "name": dom.name, "vcpus": dom.vcpus,
                      "state": dom.state},
        )  # fmt: skip
        if not created:
            vm.vcpus = dom.vcpus
            vm.save(update_fields=["vcpus"])
            vm_state_set(vm, dom.state, "與虛擬化主機同步")
    hypervisor.last_synced_at, hypervisor.last_error = timezone.now(), ""
    hypervisor.save(update_fields=["last_synced_at", "last_error"])
    return len(domains)


def usage_from_counters(prev_cpu_ns, prev_net, prev_at, stats):
    """cpu_percent from the CPU time delta over wall time and vCPUs; net_kbps from byte
    counter deltas (KB = 1024 bytes). None when there is no usable previous reading."""
    if prev_at is None or prev_cpu_ns is None:
        return None
    wall = (stats.at - prev_at).total_seconds()
    if wall <= 0 or stats.cpu_time_ns < prev_cpu_ns or stats.net_bytes < prev_net:
        return None  # counters reset (reboot, migration): skip one sample
    cpu = (stats.cpu_time_ns - prev_cpu_ns) / (wall * 1e9 * max(stats.vcpus, 1)) * 100
    net = (stats.net_bytes - prev_net) / 1024 / wall
    return min(max(cpu, 0.0), 100.0), max(net, 0.0)


def usage_collect(*, hypervisor):
    """Poll one hypervisor; store one sample per running VM. A down hypervisor only records
    its error: other hypervisors and the evaluation are separate tasks."""

    try:
        all_stats = get_adapter(hypervisor).stats()
    except HypervisorError as exc:
        hypervisor.last_error = str(exc)[:2000]
        hypervisor.save(update_fields=["last_error"])
        return 0
    vms = {str(vm.uuid): vm for vm in hypervisor.vms.all()}
    rows, refused = [], []
    window = accepted_window(timezone.now())
    for st in all_stats:
        vm = vms.get(st.uuid)
        if vm is None:
            continue
        usage = usage_from_counters(vm.counter_cpu_ns, vm.counter_net_bytes, vm.counter_at, st)
        vm.counter_cpu_ns, vm.counter_net_bytes, vm.counter_at = st.cpu_time_ns, st.net_bytes, st.at
        vm.save(update_fields=["counter_cpu_ns", "counter_net_bytes", "counter_at"])
        if usage is None:
            continue
        at = st.at.replace(microsecond=0)
        errors = sample_errors(len(rows), at, *usage, window)  # e.g. the host's clock is off
        if errors:
            refused.append(f"{vm.name}：{errors[0].message}")
        else:
            rows.append((vm.pk, at, *usage))
    if refused:
        log.warning("vmquota: %s refused samples: %s", hypervisor.name, refused)
        hypervisor.last_error = ("樣本未儲存：" + "；".join(refused))[:2000]
        hypervisor.save(update_fields=["last_error"])
    stored = store(rows)
    if stored:
        transaction.on_commit(nudge_evaluation)
    return stored


def samples_purge(*, older_than_days, batch_size=10_000, now=None):
    """Delete raw samples older than the retention, in batches (short transactions)."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    total = 0
    while True:
        ids = list(
            UsageSample.objects.filter(ts__lt=cutoff).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            # the charts' maxima go with the samples they were taken from
            SampleRollup.objects.filter(bucket__lt=rollup.bucket_of(cutoff)).delete()
            return total
        total += UsageSample.objects.filter(pk__in=ids).delete()[0]
