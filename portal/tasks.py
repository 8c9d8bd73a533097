import socket

from celery import shared_task

from .services import heartbeat_record


@shared_task(name="portal.tasks.record_heartbeat")
def record_heartbeat():
    """Proof that a worker is alive and reaches the database; /healthz reports its age."""
    heartbeat_record(worker=socket.gethostname())
