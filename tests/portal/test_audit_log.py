"""The audit log page reads in Chinese: actions and their details as phrases, people by name and
place (not by account), filters that take ROC dates like every other date field."""

import ast
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from portal import audit
from portal.models import AuditEvent
from tests import factories

TAIPEI = ZoneInfo("Asia/Taipei")
ROOT = Path(__file__).resolve().parents[2]


def page_text(client, **params):
    response = client.get(reverse("audit_log"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_an_action_shows_in_chinese_with_the_persons_name_and_school(login, bureau, coordinator):
    coordinator.full_name = "王小明"
    coordinator.save()
    audit.record("login.success", actor=coordinator, target=coordinator.username)
    html = page_text(login(bureau), action="login.success")
    assert "登入成功" in html and "王小明（新店國小）" in html
    table = html[html.index("<table") : html.index("</table>")]  # the filter's option aside
    assert "login.success" not in table
    assert coordinator.username not in html


def test_a_decision_and_a_meeting_date_read_as_phrases(login, bureau):
    audit.record("tracking.decided", actor=bureau, target="108-09-01", meeting=3,
                 decision="merge")  # fmt: skip
    audit.record("tracking.meeting_created", actor=bureau, target="十一月份會議",
                 held_on="2019-11-12")  # fmt: skip
    html = page_text(login(bureau))
    assert "列管事項決議" in html and "決議：併案" in html
    assert "會議日期：108/11/12" in html
    assert "decision=" not in html and "held_on" not in html and "2019-11-12" not in html


def test_a_vm_state_reads_in_chinese(login, bureau):
    audit.record("vmquota.resumed", actor=bureau, target="xindian-web", observed="running")
    assert "虛擬機狀態：執行中" in page_text(login(bureau))


def test_the_filters_take_roc_dates(login, bureau):
    client = login(bureau)
    for day in (1, 20):
        AuditEvent.objects.create(action="signups.submitted", target=f"九月 {day} 日",
                                  at=datetime(2019, 9, day, 10, tzinfo=TAIPEI))  # fmt: skip
    html = page_text(client, since="108/9/10", until="108 年 9 月 30 日")
    assert "九月 20 日" in html and "九月 1 日" not in html
    assert 'value="108/9/10"' in html  # what was typed stays in the field


def test_a_date_it_cannot_read_is_refused_with_roc_examples_and_lists_nothing(login, bureau):
    AuditEvent.objects.create(action="signups.submitted", target="任何一筆")
    html = page_text(login(bureau), since="上週一")
    assert "108/9/23" in html and "無法辨識日期" in html  # the field's ROC examples
    assert "篩選條件有誤" in html and "任何一筆" not in html


def test_the_action_filter_offers_chinese_choices_and_no_dashes(login, bureau):
    html = page_text(login(bureau))
    assert "全部動作" in html and "---------" not in html
    assert '<option value="login.failure">登入失敗</option>' in html


def test_the_person_filter_finds_people_by_their_name(login, bureau, coordinator):
    coordinator.full_name = "王小明"
    coordinator.save()
    audit.record("signups.submitted", actor=coordinator, target="寒假調查")
    audit.record("signups.submitted", actor=bureau, target="暑假調查")
    html = page_text(login(bureau), actor="小明")
    assert "寒假調查" in html and "暑假調查" not in html


def _recorded_action_codes():
    """Every literal action code passed to record(…) in the apps' code."""
    codes = set()
    for app in ("portal", "meetings", "tracking", "signups", "vmquota"):
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                first = node.args[0]
                if name == "record" and isinstance(first, ast.Constant):
                    codes.add(first.value)
    return codes


def test_every_action_the_apps_record_has_a_chinese_name(db):
    codes = _recorded_action_codes()
    assert {"login.success", "tracking.decided", "vmquota.suspended"} <= codes  # the scan works
    unnamed = {code for code in codes if audit.action_label(code) == code}
    assert unnamed == set()


@pytest.mark.parametrize("kind", ["notice", "change", "cancellation"])
def test_announcements_have_chinese_names(kind):
    assert audit.action_label(f"meetings.announced_{kind}").startswith("寄發")


def test_a_deleted_account_shows_its_label_and_no_login_is_said_so(login, bureau):
    gone = factories.UserFactory(username="old-clerk")
    audit.record("signups.exported", actor=gone, target="舊調查")
    gone.delete()
    audit.record("login.failure", target="nobody")
    html = page_text(login(bureau))
    assert "old-clerk（帳號已刪除）" in html and "（未登入）" in html
