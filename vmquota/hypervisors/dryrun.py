"""Dry-run adapter: no hypervisor is touched. It lists the VMs already in the database, keeps the
states it was asked to set in memory (per process) and logs every call. Used by `make run` when
libvirt-python is not installed, and wherever VMQUOTA_HYPERVISOR_ADAPTER=dryrun."""

import logging
from datetime import UTC, datetime

from .base import DomainInfo, DomainStats, HypervisorAdapter, HypervisorError, slow_call_for_tests

log = logging.getLogger("vmquota.hypervisors")

_states = {}  # (uri, uuid) → state


class DryRunAdapter(HypervisorAdapter):
    name = "dryrun"

    def _vms(self):
        from vmquota.models import VirtualMachine

        return VirtualMachine.objects.filter(hypervisor__uri=self.uri)

    def list_domains(self):
        return [
            DomainInfo(vm.name, str(vm.uuid), vm.vcpus, self.state(vm.uuid)) for vm in self._vms()
        ]

    def state(self, uuid):
        return _states.get((self.uri, str(uuid)), "running")

    def stats(self):
        # nothing is measured in a dry run: the API and CSV upload are the ways samples arrive
        now = datetime.now(UTC)
        return [DomainStats(str(vm.uuid), vm.vcpus, 0, 0, now) for vm in self._vms()][:0]

    def _set(self, uuid, state):
        slow_call_for_tests()
        if not self._vms().filter(uuid=uuid).exists():
            raise HypervisorError(f"dry-run：找不到虛擬機 {uuid}", permanent=True)
        log.warning("dry-run adapter: %s %s would now be %s (nothing was done)", self.uri, uuid,
                    state)  # fmt: skip
        _states[(self.uri, str(uuid))] = state
        return state

    def suspend(self, uuid):
        return self._set(uuid, "paused")

    def resume(self, uuid):
        return self._set(uuid, "running")
