"""Fixtures the vmquota tests share: a collector's token and the school's web server VM."""

import pytest

from tests.vmquota import factories
from vmquota.models import CollectorToken


@pytest.fixture
def token(bureau):
    """A raw collector token, as a collector sends it: the room collector of 機房主機 1."""
    return CollectorToken.issue(
        name="機房收集器", created_by=bureau, hypervisors=[factories.hypervisor()]
    )[1]


@pytest.fixture
def web(xindian_school):
    return factories.vm("xd-web", xindian_school)
