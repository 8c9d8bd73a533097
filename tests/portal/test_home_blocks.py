"""Home-page blocks registered with counters are cached per reader's roles (portal/navigation.py)."""

import pytest

from portal import fragments, navigation


@pytest.fixture
def counted_block(monkeypatch):
    """Only one block on the home page: it says whose schools it was built for, and counts."""
    calls = []

    def block(request):
        calls.append(request.user.username)
        schools = sorted(navigation.access.roles_of(request.user).coordinator_school_ids)
        return "portal/test_block.html", {"text": f"schools {schools}"}

    monkeypatch.setattr(navigation, "_home_blocks", [])
    navigation.register_home_block(
        block, counters=("test:block",), vary=navigation.vary_by_roles_and_day
    )
    monkeypatch.setattr(navigation, "render_to_string", lambda t, c: f"<p>{c['block']['text']}</p>")
    return calls


def test_readers_with_the_same_roles_share_the_block(login, coordinator, counted_block):
    from tests import factories

    school = coordinator.memberships.first().school
    colleague = factories.coordinator_of(school, username="colleague")
    assert f"schools [{school.pk}]" in login(coordinator).get("/").content.decode()
    assert f"schools [{school.pk}]" in login(colleague).get("/").content.decode()
    assert counted_block == [coordinator.username]


def test_readers_of_other_schools_get_their_own(
    login, coordinator, other_coordinator, counted_block
):
    login(coordinator).get("/")
    page = login(other_coordinator).get("/").content.decode()
    school = other_coordinator.memberships.first().school
    assert f"schools [{school.pk}]" in page
    assert len(counted_block) == 2


def test_the_block_is_built_again_when_its_counter_moves(login, coordinator, counted_block):
    client = login(coordinator)
    client.get("/")
    fragments.changed("test:block")
    client.get("/")
    assert counted_block == [coordinator.username] * 2


def test_the_roles_block_counts_a_new_person_waiting_at_once(login, bureau):
    from tests import factories

    client = login(bureau)
    assert "等待核准" not in client.get("/").content.decode()  # cached for bureau staff now
    factories.UserFactory(username="newcomer")  # signed in through OpenID Connect, no role yet
    assert "<strong>1 位</strong>等待核准" in client.get("/").content.decode()


def test_cached_blocks_read_nothing_from_the_database(login, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(coordinator)
    client.get("/")  # every block built and kept
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    tables = [q["sql"].split(" FROM ")[1].split()[0] for q in queries if " FROM " in q["sql"]]
    # the session, the person, their roles: the foundation's reads, no block's
    assert sorted(tables) == ['"portal_membership"', '"portal_user"', '"portal_usersession"']
