"""In the browser: a coordinator finds the seed minutes by a name; a bureau clerk imports pasted
minutes, fixes one field and publishes them."""

import re

import pytest

from meetings.models import Meeting
from tests.conftest import browser_login

pytestmark = pytest.mark.browser

PASTED = """新北市九大分區資訊組長專業社群召集學校
108 年度 10 月份聯席會議紀錄
壹、會議時間：108 年 10 月 8 日（星期二）上午 10 時
貳、會議地點：新北市教育研究發展中心 3 樓網管會議室
參、主 席：吳科長佳珊
紀　錄：吳安絜
肆、出席人員：詳簽到表
伍、主席致詞：略
捌、業務報告：
一、網管資安組：
(一)請各校於 10 月底前完成資安通報演練。
拾、臨時動議：無
拾壹、散會(下午 12:00)
"""


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_finds_the_september_2019_meeting_by_searching_a_name(page, screenshot):
    from meetings.demo import load as load_minutes
    from portal.demo import load as load_people

    load_people()
    load_minutes()
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.get_by_role("link", name="會議紀錄").first.click()
    page.get_by_role("heading", name="會議紀錄", exact=True).wait_for()
    screenshot(page, "meetings-list")
    page.get_by_label("搜尋會議紀錄").fill("黑快馬")
    page.get_by_role("button", name="搜尋").click()
    page.get_by_role("status").filter(has_text="找到").wait_for()
    assert page.locator("mark", has_text="黑快馬").count() >= 2
    screenshot(page, "meetings-search")
    page.get_by_role("link", name=re.compile("臨時動議 案由二")).click()
    page.get_by_role("heading", name="拾壹、散會(下午 12:30)").wait_for()
    assert re.search(r"/meetings/\d+/#motion-\d+$", page.url)
    assert page.get_by_role("heading", name="108 年度 9 月份聯席會議紀錄").is_visible()
    screenshot(page, "meetings-detail")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "meetings-detail")
    page.goto("/meetings/search/?q=資安")
    screenshot(page, "meetings-search")


@pytest.mark.django_db(transaction=True)
def test_bureau_staff_import_pasted_text_fix_one_field_and_publish(page, screenshot):
    from portal.demo import load as load_people

    load_people()
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto("/meetings/")
    page.get_by_role("link", name="匯入會議紀錄").click()
    page.get_by_label("貼上會議紀錄全文").fill(PASTED)
    page.get_by_role("button", name="預覽").click()
    # reading and checking run as a background job: its page shows progress, then goes to the
    # preview by itself
    page.get_by_role("heading", name="預覽：系統讀到的內容").wait_for()
    assert "吳科長佳珊／吳安絜" in page.content()
    screenshot(page, "meetings-import-preview")
    page.get_by_role("button", name="儲存為草稿").click()
    # as the import page promised: the job page takes the clerk to the draft
    page.get_by_role("heading", name=re.compile("編輯草稿")).wait_for()
    screenshot(page, "meetings-edit")
    page.get_by_label("會議地點").fill("新北市教育研究發展中心 4 樓會議室")
    page.get_by_role("button", name="儲存會議資訊").click()
    page.get_by_text("已儲存會議資訊。").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="發布").first.click()
    page.get_by_text("已發布").first.wait_for()
    page.get_by_role("heading", name="貳、會議地點：新北市教育研究發展中心 4 樓會議室").wait_for()
    meeting = Meeting.objects.get(title="108 年度 10 月份聯席會議")
    assert meeting.is_published and meeting.place == "新北市教育研究發展中心 4 樓會議室"
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/meetings/{meeting.pk}/edit/")
    screenshot(page, "meetings-edit")
