"""Factories for the hosting room: a hypervisor, VMs of schools, the seed policy."""

import uuid
from datetime import timedelta

from tests.vmquota.traces import at
from vmquota.evaluation import SEED_RULES
from vmquota.models import Hypervisor, VirtualMachine
from vmquota.policy import policy_version_create


def hypervisor(uri="test:///default", name="機房主機 1"):
    return Hypervisor.objects.get_or_create(name=name, defaults={"uri": uri})[0]


def vm(name, school=None, hv=None, uid=None, state="running"):
    return VirtualMachine.objects.create(
        hypervisor=hv or hypervisor(), name=name, uuid=uid or uuid.uuid4(), vcpus=2,
        school=school, state=state,
    )  # fmt: skip


def seed_policy(actor=None, effective_from=None, minutes=30, max_gap=5, mode="enforce", rules=None):
    rules = rules or [
        {"metric": m, "threshold": t, "duration": timedelta(minutes=minutes), "action": a,
         "mode": mode}
        for m, t, a in SEED_RULES
    ]  # fmt: skip
    return policy_version_create(
        actor=actor, effective_from=effective_from or at(-24 * 60), announcement="種子規則",
        max_gap=timedelta(minutes=max_gap), rules=rules, publish=True,
    )  # fmt: skip
