"""The one interface every hypervisor adapter implements (list, state, stats, suspend, resume).

Errors say whether they are permanent (retrying will not help: no such domain, operation not
valid) or transient (connection refused, timeout) – the action task retries only the latter.
"""

import importlib.util
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("vmquota.hypervisors")

ADAPTERS = {
    "libvirt": "vmquota.hypervisors.libvirt.LibvirtAdapter",
    "dryrun": "vmquota.hypervisors.dryrun.DryRunAdapter",
}


class HypervisorError(Exception):
    def __init__(self, message, *, permanent=False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class DomainInfo:
    name: str
    uuid: str
    vcpus: int
    state: str  # running | paused | shutoff | unknown


@dataclass(frozen=True)
class DomainStats:
    uuid: str
    vcpus: int
    cpu_time_ns: int
    net_bytes: int  # received + transmitted, all interfaces
    at: datetime


class HypervisorAdapter:
    """Subclasses implement these for one hypervisor URI."""

    name = "base"

    def __init__(self, uri):
        self.uri = uri

    def list_domains(self) -> list[DomainInfo]:
        raise NotImplementedError

    def state(self, uuid) -> str:
        raise NotImplementedError

    def stats(self) -> list[DomainStats]:
        raise NotImplementedError

    def suspend(self, uuid) -> str:
        """Pause the domain (already paused counts as done); returns the state read back."""
        raise NotImplementedError

    def resume(self, uuid) -> str:
        """Resume the domain (already running counts as done); returns the state read back."""
        raise NotImplementedError


def slow_call_for_tests():
    """VMQUOTA_HYPERVISOR_TEST_DELAY_S=<seconds> makes every suspend/resume wait that long
    before it calls the hypervisor – how the fault tests make a suspension observably slow (to
    kill its worker mid-way) or make a hypervisor hang (to hit the call timeout). Unset in
    production."""
    delay = float(os.environ.get("VMQUOTA_HYPERVISOR_TEST_DELAY_S") or 0)
    if delay > 0:
        log.warning("VMQUOTA_HYPERVISOR_TEST_DELAY_S: waiting %.1f s before the call", delay)
        time.sleep(delay)


def libvirt_available():
    """Whether libvirt-python is installed – found, not imported: every process asks this at
    start-up (the adapter warning in ready()), and only the collector and actions need it."""
    return importlib.util.find_spec("libvirt") is not None


def adapter_name():
    """The configured adapter; `auto` means libvirt when libvirt-python is installed."""
    name = settings.VMQUOTA_HYPERVISOR_ADAPTER
    if name == "auto":
        return "libvirt" if libvirt_available() else "dryrun"
    return name


def get_adapter(hypervisor_or_uri):
    uri = getattr(hypervisor_or_uri, "uri", hypervisor_or_uri)
    return import_string(ADAPTERS[adapter_name()])(uri)
