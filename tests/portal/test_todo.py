"""本週待辦: apps register what a reader has to do; the home page leads with it, most urgent first."""

import pytest

from portal import todo
from portal.todo import Todo


@pytest.fixture
def sources(monkeypatch):
    monkeypatch.setattr(todo, "_sources", [])
    return todo


def test_the_home_page_leads_with_every_apps_todos_most_urgent_first(login, coordinator, sources):
    sources.register_todo(lambda request: [Todo("看看消息", urgency=60)], order=10)
    sources.register_todo(
        lambda request: [Todo("填報調查表", url="/signups/", detail="還有 2 天", label="截止",
                              tone="warn", urgency=5)],
        order=20,
    )  # fmt: skip
    sources.register_todo(lambda request: [], order=30)
    body = login(coordinator).get("/").content.decode()
    todo_html = body[body.index("本週待辦") : body.index('class="blocks"')]
    assert todo_html.index("填報調查表") < todo_html.index("看看消息")
    assert '<a href="/signups/">填報調查表</a>' in todo_html and "還有 2 天" in todo_html
    assert 'class="badge badge-warn">截止' in todo_html
    assert body.index("本週待辦") < body.index('class="blocks"')


def test_with_nothing_to_do_the_home_page_says_so(login, coordinator, sources):
    assert "本週沒有需要您處理的事項" in login(coordinator).get("/").content.decode()


def test_registering_twice_counts_once(sources):
    def fn(request):
        return [Todo("一件事")]

    sources.register_todo(fn)
    sources.register_todo(fn)
    assert [t.text for t in sources.todos_for(None)] == ["一件事"]
