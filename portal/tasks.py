import smtplib
import socket

from celery import shared_task

from .services import heartbeat_record


@shared_task(name="portal.tasks.record_heartbeat")
def record_heartbeat():
    """Proof that a worker is alive and reaches the database; /healthz reports its age."""
    heartbeat_record(worker=socket.gethostname())


@shared_task(name="portal.tasks.purge_audit_log")
def purge_audit_log():
    from django.conf import settings

    from .services import audit_purge

    return audit_purge(older_than_days=settings.AUDIT_RETENTION_DAYS)


@shared_task(name="portal.tasks.clear_expired_sessions")
def clear_expired_sessions():
    """Expired sessions are never read again (the read checks the expiry); this removes them."""
    from .models import UserSession

    UserSession.get_session_store_class().clear_expired()


@shared_task(name="portal.tasks.requeue_jobs")
def requeue_jobs():
    """Background jobs whose message the broker lost (or never got) are sent again."""
    from .jobs import jobs_requeue

    return jobs_requeue()


@shared_task(
    name="portal.tasks.send_invitation",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    max_retries=6,
)
def send_invitation(invitation_id):
    """One invitation's e-mail; retried while the SMTP server is away (sending twice is harmless:
    the same link)."""
    from .services import invitation_mail_send

    return invitation_mail_send(invitation_id)
