"""Fuzz the collector API from its own OpenAPI description (schemathesis), against a
live server: no 5xx, and every answer is one the description documents.

schemathesis (PyPI) generates valid and invalid bodies from /api/vmquota/openapi.json. The number
of examples is bounded (FUZZ_EXAMPLES, default 60) so the test takes seconds; raise it locally
with PORTAL_FUZZ_EXAMPLES=1000 for a longer run.
"""

import os

import pytest

try:
    import schemathesis
except ImportError:  # skip on a laptop without it; fail in CI (PORTAL_REQUIRE_SERVICES=1)
    from tests.conftest import REQUIRE_SERVICES

    if REQUIRE_SERVICES:
        raise
    pytest.skip("schemathesis is not installed (pip install schemathesis)", allow_module_level=True)

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

FUZZ_EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "60"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


@pytest.fixture
def collector(transactional_db, live_server):
    """A live server with the demo VMs and one collector token."""
    from portal.demo import load as load_portal
    from vmquota.demo import load as load_vmquota
    from vmquota.models import CollectorToken, Hypervisor

    load_portal()
    load_vmquota()
    _, raw = CollectorToken.issue(name="schemathesis", hypervisors=Hypervisor.objects.all())
    return {"url": live_server.url, "token": raw}


# The description the server publishes (test_the_published_description_is_the_one_fuzzed checks
# it is the same). Loaded at collection time: schemathesis' lazy `from_fixture` loader does not
# run on pytest 9.
from vmquota.api import OPENAPI  # noqa: E402

schema = schemathesis.openapi.from_dict(OPENAPI)


def test_the_published_description_is_the_one_fuzzed(collector):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{collector['url']}/api/vmquota/openapi.json", timeout=10) as r:
        assert json.loads(r.read()) == json.loads(json.dumps(OPENAPI))


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_the_collector_api_never_answers_5xx(case, collector):
    case.call_and_validate(
        base_url=collector["url"],
        headers={"Authorization": f"Bearer {collector['token']}"},
        checks=CHECKS,
    )


def test_the_fuzzer_reaches_the_api_with_the_token(collector):
    """The fuzz test above is not fuzzing a login page: with the token, a valid body is stored."""
    import json
    import urllib.request
    from datetime import UTC, datetime

    body = json.dumps({"samples": [{"vm": "xdes-web", "ts": datetime.now(UTC).isoformat(),
                                    "cpu_percent": 5, "net_kbps": 1}]}).encode()  # fmt: skip
    request = urllib.request.Request(
        f"{collector['url']}/api/vmquota/samples", data=body, method="POST",
        headers={"Authorization": f"Bearer {collector['token']}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read())["stored"] == 1
