"""Celery tasks: take ids, load, call a service. All are safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings

log = logging.getLogger("vmquota")


@shared_task(name="vmquota.evaluate")
def evaluate():
    from .evaluation_runner import evaluate_cycle

    return evaluate_cycle()


@shared_task(name="vmquota.evaluate_shard")
def evaluate_shard(shard):
    from .evaluation_runner import evaluate_cycle

    return evaluate_cycle(shards=[shard])


@shared_task(name="vmquota.evaluate_fanout")
def evaluate_fanout():
    """One task per shard: with several worker processes, they evaluate a cycle in parallel."""
    from .models import EVALUATION_SHARDS

    for shard in range(EVALUATION_SHARDS):
        evaluate_shard.delay(shard)


@shared_task(name="vmquota.act", bind=True, max_retries=None)
def act(self, action_id):
    from .actions import ActionRetry, action_perform

    try:
        return action_perform(action_id=action_id)
    except ActionRetry as retry:
        # the row is pending again with next_attempt_at; this retry (or the requeue beat) runs it
        raise self.retry(countdown=retry.countdown, exc=None) from None


@shared_task(name="vmquota.requeue_actions")
def requeue_actions():
    from .actions import actions_requeue

    return actions_requeue()


@shared_task(name="vmquota.send_reminders")
def send_reminders():
    from .actions import reminders_queue

    return reminders_queue()


@shared_task(name="vmquota.collect_all")
def collect_all():
    from .models import Hypervisor

    for pk in Hypervisor.objects.filter(enabled=True).values_list("pk", flat=True):
        collect.delay(pk)  # one task per hypervisor: a slow one never holds up the others


@shared_task(name="vmquota.collect", soft_time_limit=50)
def collect(hypervisor_id):
    from .collection import usage_collect
    from .models import Hypervisor

    return usage_collect(hypervisor=Hypervisor.objects.get(pk=hypervisor_id))


@shared_task(name="vmquota.sync_all")
def sync_all():
    from .models import Hypervisor

    for pk in Hypervisor.objects.filter(enabled=True).values_list("pk", flat=True):
        sync_inventory.delay(pk)


@shared_task(name="vmquota.sync_inventory", soft_time_limit=120)
def sync_inventory(hypervisor_id):
    from .collection import inventory_sync
    from .models import Hypervisor

    return inventory_sync(hypervisor=Hypervisor.objects.get(pk=hypervisor_id))


@shared_task(name="vmquota.purge_samples")
def purge_samples():
    from .collection import samples_purge

    return samples_purge(older_than_days=settings.VMQUOTA_SAMPLE_RETENTION_DAYS)


@shared_task(name="vmquota.notify_policy")
def notify_policy(version_id):
    from .policy import policy_notify

    return policy_notify(version_id=version_id)


@shared_task(name="vmquota.whatif")
def whatif(run_id):
    from .whatif import whatif_compute

    return whatif_compute(run_id=run_id)
