"""Store-then-evaluate fuzzing: every batch the collector API accepts goes through a
full evaluation cycle without a failure, and every batch it refuses stores nothing, whatever the
batch holds.

The schemathesis fuzzer (tests/security/test_api_fuzz.py) checks the API's answers against its
description; this one follows what the API stored into the evaluator, which that never did. A
batch is a few rows built valid, with edge values (the ends of the retention window, offsets up
to ±14 h and with fractions of a second, 0, 100, subnormal and huge numbers, a VM by name or by
UUID in any case), and in about a third of the batches one field of one row made hostile (a time
in year 1 or 9999, no offset, NaN, infinity, a negative or out-of-range number, a string, NUL in
a name, an unknown VM…). One set of VMs serves every example; their samples accumulate (up to a
few hundred, then they are cleared), so later examples also meet late samples (the rewind) and
duplicates.

Examples: 2 000 in CI (CI=true; on PostgreSQL there), 150 elsewhere; PORTAL_FUZZ_EXAMPLES sets
the number.
"""

import json
import os
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from portal.models import AuditEvent
from tests.vmquota import factories
from tests.vmquota.test_shards import vm_in_shard
from vmquota.evaluation_runner import evaluate_cycle
from vmquota.ingest import MAX_NET_KBPS
from vmquota.models import CollectorToken, UsageSample

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
URL = "/api/vmquota/samples"
EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES") or (600 if os.environ.get("CI") else 150))
KEEP_SAMPLES = 300
SHARD = 3
VM_NAMES = ("fz-web", "fz-db", "fz-mail", "fz-idle")
RETENTION = timedelta(days=35)  # VMQUOTA_SAMPLE_RETENTION_DAYS's default
OFFSETS = [
    dt_timezone(timedelta(hours=h, minutes=m, seconds=s, microseconds=us))
    for h, m, s, us in [(0, 0, 0, 0), (8, 0, 0, 0), (-12, 0, 0, 0), (14, 0, 0, 0), (5, 45, 0, 0),
                        (8, 0, 30, 500_000), (-23, -59, 0, 0)]
]  # fmt: skip
HOSTILE = {
    "vm": st.one_of(
        st.sampled_from(["", "   ", "fz-web\x00", "no-such-vm", "fz-web; DROP TABLE x", "\ud800"]),
        st.none(), st.integers(), st.lists(st.just("fz-web"), max_size=1),
    ),
    "ts": st.one_of(
        st.sampled_from([
            "0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59",
            "9999-12-31T23:59:59+00:00", "2019-09-10T10:00:00", "", "now", "1568080800",
            "2024-02-30T00:00:00+08:00", "294277-01-01T00:00:00+00:00",
        ]),
        st.none(), st.integers(), st.floats(), st.dictionaries(st.text(max_size=3), st.integers()),
    ),
    "cpu_percent": st.one_of(
        st.sampled_from([float("nan"), float("inf"), -float("inf"), -1e-9, 100.0000001, 1e308,
                         10**400, -0.1, "50", True, None]),
        st.floats(max_value=-1e-12), st.floats(min_value=100.0000001), st.text(max_size=4),
    ),
    "net_kbps": st.one_of(
        st.sampled_from([float("nan"), float("inf"), -1, MAX_NET_KBPS * 2, 1e308, 10**400,
                         "fast", False, None, []]),
        st.floats(max_value=-1e-12), st.floats(min_value=MAX_NET_KBPS * 1.0001),
    ),
}  # fmt: skip


@st.composite
def valid_ts(draw):
    """A time inside the window, written with any offset the API reads, up to a second off its
    ends (the window moves on while the test runs: such rows may be refused, never misjudged)."""
    now = timezone.now()
    seconds = draw(st.one_of(
        st.integers(-int(RETENTION.total_seconds()) + 1, 299),
        st.sampled_from([-int(RETENTION.total_seconds()) + 5, 0, 295, -60, -3600]),
    ))  # fmt: skip
    micro = draw(st.sampled_from([0, 0, 1, 999_999]))
    ts = (now + timedelta(seconds=seconds)).replace(microsecond=micro)
    text = ts.astimezone(draw(st.sampled_from(OFFSETS))).isoformat()
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


def valid_number(upper):
    return st.one_of(
        st.floats(0, upper, allow_nan=False),
        st.integers(0, int(upper)),
        st.sampled_from([0, 0.0, -0.0, upper, float(upper), 5e-324]),
    )


@st.composite
def batches(draw):
    """(rows, whether one field of one row was made hostile)."""
    rows = [
        {
            "vm": draw(st.sampled_from(VM_NAMES + ("uuid",))),
            "ts": draw(valid_ts()),
            "cpu_percent": draw(valid_number(100)),
            "net_kbps": draw(valid_number(MAX_NET_KBPS)),
        }
        for _ in range(draw(st.integers(1, 6)))
    ]
    if draw(st.integers(0, 2)) == 0:
        row = draw(st.sampled_from(rows))
        field = draw(st.sampled_from(sorted(HOSTILE)))
        row[field] = draw(HOSTILE[field])
    return rows


@pytest.fixture
def room(xindian_school, settings):
    """One policy, one collector, four VMs (one also named by its UUID in the batches)."""
    settings.VMQUOTA_TOKEN_RATE_PER_MINUTE = 10**9  # thousands of batches in a minute
    factories.seed_policy(minutes=3)  # short streaks: the examples fire and end incidents
    vms = [vm_in_shard(SHARD, xindian_school, name) for name in VM_NAMES]
    return {
        "token": CollectorToken.issue(name="fuzz", school=xindian_school)[1],
        "names": {"uuid": str(vms[0].uuid).upper()}
        | {n: vm.name for n, vm in zip(VM_NAMES, vms, strict=True)},
    }


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(rows=batches())
@example(rows=[{"vm": "fz-web", "ts": "0001-01-01T00:00:00+08:00", "cpu_percent": 1,
                "net_kbps": 1}])  # year 1 at +08:00 (stored as 1 BC)  # fmt: skip
@example(rows=[{"vm": "fz-web", "ts": "2019-09-10T10:00:00+08:00:30.5", "cpu_percent": 1,
                "net_kbps": 1}])  # fmt: skip
@example(rows=[{"vm": "\ud800", "ts": "2019-09-10T10:00:00+08:00", "cpu_percent": 1,
                "net_kbps": 1}])  # fmt: skip
def test_every_accepted_batch_is_evaluated_and_every_refused_one_stores_nothing(client, room, rows):
    for row in rows:  # the VMs' real names (vm_in_shard numbers them)
        if isinstance(row["vm"], str) and row["vm"] in room["names"]:
            row["vm"] = room["names"][row["vm"]]
    before = UsageSample.objects.count()
    if before > KEEP_SAMPLES:  # a late sample re-reads its VM's history: keep that bounded
        UsageSample.objects.all().delete()
        before = 0
    response = client.post(
        URL, json.dumps({"samples": rows}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {room['token']}",
    )  # fmt: skip
    assert response.status_code in (200, 400), response.content[:300]
    event(f"HTTP {response.status_code}")  # pytest --hypothesis-show-statistics
    if response.status_code == 400:
        assert response.json()["errors"], response.content[:300]
        assert UsageSample.objects.count() == before
        return
    # the cycle over the one shard that holds the VMs (the others have nothing to evaluate;
    # each costs a few statements, 16 times per example)
    stats = evaluate_cycle(shards=[SHARD])
    assert stats["shards"] == 1
    assert (stats["failed_vms"], stats["failed_shards"]) == (0, 0), list(
        AuditEvent.objects.filter(action="vmquota.evaluation_failed").values_list("detail")
    )
    stored = UsageSample.objects.order_by("-id")[: response.json()["stored"]]
    horizon = timezone.now() + timedelta(minutes=5, seconds=5)
    assert all(horizon - RETENTION - timedelta(minutes=6) < s.ts <= horizon for s in stored)
