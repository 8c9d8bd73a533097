"""Browser: a job page says what happened – a failure in red with its reason and a way to start
over, a finished preview goes to the preview by itself and never says 完成 beside 「正在…」."""

import pytest

from portal.jobs import run_job
from portal.models import BackgroundJob
from tests import factories
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def clerk(transactional_db):
    return factories.bureau_staff(username="platform-clerk")


def _job(clerk, **fields):
    return BackgroundJob.objects.create(
        kind="meetings.import_save", title="匯入會議紀錄：儲存「108 年度 10 月份聯席會議」",
        created_by=clerk, task="meetings.tasks.import_save", **fields,
    )  # fmt: skip


def test_a_failed_import_is_red_with_its_reason_and_a_way_back(page, clerk, screenshot):
    job = _job(clerk, params={"back_url": "/meetings/import/"})

    def refuse(job, progress):
        progress(0, 1, "正在儲存會議紀錄（全部成功才會儲存）…")
        raise ValueError("第 12 行：會議日期不是有效的民國日期。")

    run_job(job.pk, refuse)
    browser_login(page, clerk.username)
    page.wait_for_url("**/")
    page.goto(f"/jobs/{job.pk}/")
    status = page.locator("#job-status")
    assert status.inner_text() == "失敗"
    page.get_by_role("alert").filter(has_text="第 12 行：會議日期不是有效的民國日期。").wait_for()
    colour = page.locator("#job-progress").evaluate("el => getComputedStyle(el).accentColor")
    assert colour == "rgb(164, 0, 29)"  # --bad, not the brand's blue
    assert "完成" not in status.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "job-failed")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "job-failed")
    page.get_by_role("link", name="修正後重新執行").click()
    page.wait_for_url("**/meetings/import/")


def test_a_finished_job_goes_where_it_promised(page, clerk):
    job = _job(clerk)
    run_job(job.pk, lambda job, progress: {"url": "/meetings/", "go": True, "message": "好了。"})
    browser_login(page, clerk.username)
    page.wait_for_url("**/")
    page.goto(f"/jobs/{job.pk}/")
    page.wait_for_url("**/meetings/")
