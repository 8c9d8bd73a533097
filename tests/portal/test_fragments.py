"""portal/fragments.py: cached fragments and the counters that drop them."""

from django.core.cache import cache

from portal import fragments
from portal.models import District
from tests.portal.test_cache import DEAD_REDIS


def counting_render(calls, html):
    def render():
        calls.append(html)
        return html

    return render


def test_a_fragment_is_rendered_once_until_its_counter_moves(db):
    cache.clear()
    calls = []
    for _ in range(3):
        assert (
            fragments.fragment(("list", "a"), ("things",), counting_render(calls, "<p>1</p>"))
            == "<p>1</p>"
        )
    assert calls == ["<p>1</p>"]
    fragments.changed("things")
    assert (
        fragments.fragment(("list", "a"), ("things",), counting_render(calls, "<p>2</p>"))
        == "<p>2</p>"
    )
    assert calls == ["<p>1</p>", "<p>2</p>"]


def test_what_a_fragment_shows_is_part_of_its_key(db):
    cache.clear()
    staff = fragments.fragment(("list", True), ("things",), lambda: "staff")
    others = fragments.fragment(("list", False), ("things",), lambda: "others")
    assert (staff, others) == ("staff", "others")


def test_another_counter_moving_leaves_a_fragment_alone(db):
    cache.clear()
    calls = []
    fragments.fragment(("x",), ("a",), counting_render(calls, "x"))
    fragments.changed("b")
    fragments.fragment(("x",), ("a",), counting_render(calls, "x"))
    assert calls == ["x"]


def test_an_evicted_counter_never_finds_an_older_fragment(db):
    cache.clear()
    fragments.fragment(("x",), ("a",), lambda: "old")
    cache.delete(fragments._counter("a"))
    assert fragments.fragment(("x",), ("a",), lambda: "new") == "new"


def test_saving_a_model_moves_its_counter(db):
    cache.clear()
    fragments.changed_on_save("test-districts", District)
    before = fragments.generations("test-districts")
    District.objects.create(name="測試分區", position=99)
    assert fragments.generations("test-districts") != before


def test_the_counter_moves_again_when_the_transaction_commits(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        fragments.changed("c")
        at_once = fragments.generations("c")
    for callback in callbacks:
        callback()
    assert fragments.generations("c") != at_once


def test_without_a_cache_fragments_are_rendered_and_changes_still_happen(db, settings):
    settings.CACHES = DEAD_REDIS
    calls = []
    for _ in range(2):
        assert fragments.fragment(("x",), ("a",), counting_render(calls, "<p>live</p>")) == (
            "<p>live</p>"
        )
    assert len(calls) == 2  # built every time, from the database
    fragments.changed("a")  # the change it follows must not fail


def test_without_a_cache_the_pages_that_use_fragments_still_answer(login, bureau, settings):
    client = login(bureau)  # logged in before the cache goes (login itself uses the cache)
    settings.CACHES = DEAD_REDIS
    for url in ("/", "/tracking/", "/meetings/search/?q=資安"):
        assert client.get(url).status_code == 200, url


def test_a_fragment_kept_from_older_counters_is_rebuilt_in_place(db):
    """A reader that read the counters before a move may store its build after the move; the
    values kept beside it say it is old, so it is never served."""
    cache.clear()
    fragments.fragment(("x",), ("a",), lambda: "old")
    key = fragments._key(("x",), ("a",))
    stale = cache.get(key)
    fragments.changed("a")
    assert fragments.fragment(("x",), ("a",), lambda: "new") == "new"
    cache.set(key, stale)  # the slow reader's late write of the old build
    assert fragments.fragment(("x",), ("a",), lambda: "newer") == "newer"
    assert cache.get(key)[1] == "newer"  # one key per fragment, whatever the generations
