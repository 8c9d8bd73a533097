"""Exports are audit-logged (who, what, when, from where), with a row count where the
app knows it."""

import pytest
from django.urls import reverse

from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "args", "action"),
    [("tracking:export", lambda w: [], "tracking.exported"),
     ("signups:export", lambda w: [w.survey.pk], "signups.exported")],
)  # fmt: skip
def test_an_export_is_audited(world, client, name, args, action):
    client.force_login(world.people["bureau"])
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(reverse(name, args=args(world)), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    event = AuditEvent.objects.filter(id__gt=last, action=action).get()
    assert event.actor == world.people["bureau"] and event.ip == "198.51.100.7"


def test_a_refused_export_is_audited_as_a_refusal_not_an_export(world, client):
    client.force_login(world.people["coordinator"])
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(reverse("signups:export", args=[world.survey.pk]))
    assert response.status_code == 403
    actions = list(AuditEvent.objects.filter(id__gt=last).values_list("action", flat=True))
    assert actions == ["access.refused"]
