"""Collector tokens – only in a header (see test_bad_input), at least 128 bits, stored
as a digest, never written to the audit log, revocable, and rate-limited per token; and
scoped – a token posts only for its hosts' or its school's VMs."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

API = "/api/vmquota/samples"


def issue_through_the_page(client, world, **scope):
    """A token made by the bureau on /vmquota/tokens/, for 新店國小's VMs unless `scope` says."""
    client.force_login(world.people["bureau"])
    scope = scope or {"school": world.xindian.pk}
    response = client.post(reverse("vmquota:tokens"), {"name": "新店國小收集器", **scope})
    assert response.status_code == 200
    raw = re.search(r"vmq_[A-Za-z0-9_-]+", response.content.decode()).group()
    return raw


def test_a_new_token_is_shown_once_and_stored_only_as_a_digest(world, client):
    from vmquota.models import CollectorToken, token_digest

    raw = issue_through_the_page(client, world)
    row = CollectorToken.objects.get(digest=token_digest(raw))
    stored = json.dumps(
        [str(v) for v in CollectorToken.objects.filter(pk=row.pk).values().first().values()]
    )
    assert raw not in stored and raw[10:] not in stored
    assert raw not in client.get(reverse("vmquota:tokens")).content.decode(), "shown only once"
    logged = json.dumps(
        list(AuditEvent.objects.values_list("target", "detail")), ensure_ascii=False
    )
    assert raw not in logged and raw[10:] not in logged


def test_a_token_has_at_least_128_bits(world, client):
    raw = issue_through_the_page(client, world)
    secret = raw.removeprefix("vmq_")
    assert len(secret) * 6 >= 128  # base64url: 6 bits a character


def test_a_revoked_token_stops_working_at_once(world, client):
    from vmquota.models import CollectorToken, token_digest

    raw = issue_through_the_page(client, world)
    body = json.dumps({"samples": []})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.post(API, body, content_type="application/json", **auth).status_code == 200
    row = CollectorToken.objects.get(digest=token_digest(raw))
    client.post(reverse("vmquota:tokens"), {"revoke": row.pk})
    assert client.post(API, body, content_type="application/json", **auth).status_code == 401


def test_a_token_that_floods_the_api_is_slowed_down(world, client):
    raw = issue_through_the_page(client, world)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = json.dumps({"samples": []})
    refused = None
    for _ in range(300):
        response = client.post(API, body, content_type="application/json", **auth)
        if response.status_code == 429:
            refused = response
            break
    assert refused is not None, "300 requests in a few seconds were all answered"
    assert refused.json()["error"], "the refusal says why"
    other = issue_through_the_page(client, world)
    response = client.post(API, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {other}")  # fmt: skip
    assert response.status_code == 200, "the limit is per token"


# --- scope ----------------------------------------------------------------------------------------


def sample(vm, minute=1):
    from django.utils import timezone

    ts = (timezone.now() - timedelta(minutes=minute)).replace(microsecond=0).isoformat()
    return {"vm": vm, "ts": ts, "cpu_percent": 100, "net_kbps": 1}


def test_a_school_token_cannot_post_for_another_schools_vm(world, client):
    from vmquota.models import UsageSample

    raw = issue_through_the_page(client, world)  # 新店國小's own collector
    client.logout()
    stored = UsageSample.objects.count()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    # a leaked token tries to fake a streak on 江翠國中's NAS, hidden in a batch of its own VM
    body = json.dumps(
        {"samples": [sample("xdes-web"), sample("jtjhs-nas"), sample("jtjhs-nas", 2)]}
    )
    response = client.post(API, body, content_type="application/json", **auth)

    assert response.status_code == 403
    answer = response.json()
    assert "jtjhs-nas" in answer["error"] and "xdes-web" not in answer["error"]
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [(1, "vm"), (2, "vm")]
    assert all("jtjhs-nas" in e["message"] for e in answer["errors"])
    assert UsageSample.objects.count() == stored  # nothing of the batch, not even its own VM's
    event = AuditEvent.objects.get(action="vmquota.token_out_of_scope")
    assert event.detail["vms"] == ["jtjhs-nas"] and "新店國小收集器" in event.target
    assert raw not in json.dumps(event.detail) and raw[10:] not in event.target

    own = client.post(API, json.dumps({"samples": [sample("xdes-web")]}),
                      content_type="application/json", **auth)  # fmt: skip
    assert own.status_code == 200 and own.json()["stored"] == 1


def test_a_host_token_posts_for_its_hosts_vms_by_name_or_uuid_and_no_others(world, client):
    from vmquota.models import Hypervisor, VirtualMachine

    nas = VirtualMachine.objects.select_related("hypervisor").get(name="jtjhs-nas")
    other_host = Hypervisor.objects.create(name="另一台主機", uri="test:///default")
    stranger = VirtualMachine.objects.create(hypervisor=other_host, name="elsewhere",
                                             uuid="11111111-2222-3333-4444-555555555555",
                                             school=world.xindian)  # fmt: skip
    raw = issue_through_the_page(client, world, hypervisors=[nas.hypervisor_id])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    ok = client.post(API, json.dumps({"samples": [sample(str(nas.uuid)), sample("jtjhs-nas", 2)]}),
                     content_type="application/json", **auth)  # fmt: skip
    assert ok.status_code == 200, ok.content
    for key in ("elsewhere", str(stranger.uuid), str(stranger.uuid).upper()):
        refused = client.post(API, json.dumps({"samples": [sample(key, 3)]}),
                              content_type="application/json", **auth)  # fmt: skip
        assert refused.status_code == 403, key
        assert key in refused.json()["error"]
    assert stranger.samples.count() == 0


def test_a_token_needs_a_scope_and_says_so_in_chinese(world, client):
    client.force_login(world.people["bureau"])
    response = client.post(reverse("vmquota:tokens"), {"name": "沒有範圍的收集器"})
    assert response.status_code == 400
    assert "請選擇權杖的收集範圍" in response.content.decode()
    assert "vmq_" not in response.content.decode()
    for bad in ({"hypervisors": "abc"}, {"hypervisors": "99999999999"}, {"school": "x\x00"}):
        response = client.post(reverse("vmquota:tokens"), {"name": "收集器", **bad})
        assert response.status_code == 400, bad
        assert "vmq_" not in response.content.decode()


@pytest.mark.parametrize(
    "value", ["abc", "", "1.5", "-1", "99999999999999999999", "\x00", "7 OR 1=1"]
)
def test_revoking_with_a_bad_id_is_a_form_error_in_chinese(world, client, value):
    from vmquota.models import CollectorToken

    raw = issue_through_the_page(client, world)
    response = client.post(reverse("vmquota:tokens"), {"revoke": value})
    assert response.status_code == 400
    page = response.content.decode()
    # a NUL byte is refused for the whole request before the form reads it
    assert any(m in page for m in ("找不到這個權杖", "請選擇要撤銷的權杖", "無法處理的控制字元"))
    assert CollectorToken.objects.get(prefix=raw[:10]).revoked_at is None


def test_revoking_twice_says_it_is_already_revoked(world, client):
    from vmquota.models import CollectorToken

    raw = issue_through_the_page(client, world)
    row = CollectorToken.objects.get(prefix=raw[:10])
    assert client.post(reverse("vmquota:tokens"), {"revoke": row.pk}).status_code == 302
    again = client.post(reverse("vmquota:tokens"), {"revoke": row.pk})
    assert again.status_code == 400 and "已經撤銷" in again.content.decode()
    assert AuditEvent.objects.filter(action="vmquota.token_revoked").count() == 1
