"""Collector tokens are scoped: the migration that gives tokens made before
scopes existed the hosts of that day, and the tokens page that shows it. The API's refusals are in
tests/security/test_api_tokens.py."""

import pytest
from django.db import connection
from django.utils import timezone

from tests.vmquota import factories

BEFORE, AFTER = ("vmquota", "0005_samples_lock_trigger"), ("vmquota", "0006_collector_token_scope")


def test_the_migration_scopes_live_tokens_to_the_hosts_of_that_day_and_marks_them(
    transactional_db,
):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    Hypervisor, Token = (
        old.get_model("vmquota", "Hypervisor"),
        old.get_model("vmquota", "CollectorToken"),
    )
    room = [Hypervisor.objects.create(name=f"機房主機 {n}", uri="test:///default") for n in (1, 2)]
    Token.objects.create(name="舊收集器", digest="a" * 64, prefix="vmq_aaaaaa")
    Token.objects.create(
        name="已撤銷", digest="b" * 64, prefix="vmq_bbbbbb", revoked_at=timezone.now()
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from vmquota.models import CollectorToken

    live, revoked = (
        CollectorToken.objects.get(name="舊收集器"),
        CollectorToken.objects.get(name="已撤銷"),
    )
    assert sorted(live.hypervisors.values_list("pk", flat=True)) == sorted(h.pk for h in room)
    assert live.scope_from_migration and live.school is None
    assert not revoked.hypervisors.exists() and not revoked.scope_from_migration


@pytest.mark.django_db
def test_the_tokens_page_shows_each_tokens_scope_and_asks_to_replace_a_migrated_one(
    login, bureau, xindian_school
):
    from vmquota.models import CollectorToken

    room = factories.hypervisor()
    CollectorToken.issue(name="機房收集器", hypervisors=[room])
    CollectorToken.issue(name="新店國小收集器", school=xindian_school)
    old, _ = CollectorToken.issue(name="舊收集器", hypervisors=[room])
    CollectorToken.objects.filter(pk=old.pk).update(scope_from_migration=True)

    page = login(bureau).get("/vmquota/tokens/").content.decode()
    assert "主機：機房主機 1" in page and "學校：新店國小" in page
    assert page.count("範圍暫定為當時所有的主機") == 1
