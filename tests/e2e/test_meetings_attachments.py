"""In the browser: a bureau clerk ticks the attending schools, uploads a PDF to a report item
and links the winter-camp survey, publishes; a coordinator sees both in the minutes and opens
the file."""

import re

import pytest

from meetings.models import Attachment, Meeting
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def choose(select, text):
    """Pick the option whose text contains `text`, as a person reading the list would."""
    select.select_option(select.locator("option", has_text=text).first.get_attribute("value"))


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    from meetings import demo as meetings_demo
    from portal.demo import load as load_people
    from signups import demo as signups_demo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_people()
    meeting = meetings_demo.load()
    signups_demo.load()
    return meeting


@pytest.mark.django_db(transaction=True)
def test_bureau_attach_a_file_link_a_survey_tick_schools_and_a_coordinator_sees_them(
    page, screenshot, demo, tmp_path
):
    from meetings import services
    from portal.models import User

    bureau = User.objects.get(username="bureau")
    draft = services.meeting_create(
        user=bureau, title="108 年度 10 月份聯席會議", held_on=demo.held_on.replace(month=10, day=8)
    )
    services.meeting_update(meeting=draft, user=bureau, changes={"attendance_note": "詳簽到表"})
    division = demo.report_items.first().division
    services.report_item_add(
        meeting=draft, user=bureau, division=division, text="寒假營隊請於期限前填報調查表。"
    )

    browser_login(page, "bureau", "bureau-demo-108")
    page.goto(f"/meetings/{draft.pk}/edit/")
    page.get_by_role("group", name="文山分區").get_by_label("新店國小").check()
    page.get_by_role("group", name="板橋分區").get_by_label("江翠國中").check()
    page.get_by_role("button", name="儲存出席學校").click()
    page.get_by_text("已儲存出席學校。").wait_for()

    pdf = tmp_path / "活動計畫.pdf"
    pdf.write_bytes(PDF)
    form = page.locator("form", has=page.get_by_role("heading", name="上傳檔案"))
    form.get_by_label("檔案").set_input_files(str(pdf))
    form.get_by_label("附件名稱").fill("FUN Coding 活動計畫")
    choose(form.get_by_label("附在"), "寒假營隊請於期限前填報")
    form.get_by_role("button", name="上傳附件").click()
    page.get_by_text("已加入附件。").wait_for()

    survey_form = page.locator("form", has=page.get_by_role("heading", name="連結調查表"))
    choose(survey_form.get_by_label("調查表"), "寒假青少年休閒育樂活動")
    survey_form.get_by_role("button", name="連結調查表").click()
    page.get_by_text("已連結調查表。").wait_for()
    assert Attachment.objects.filter(meeting=draft).count() == 2
    assert serious_violations(page) == []
    screenshot(page, "meetings-edit-attachments")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "meetings-edit-attachments")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="發布").first.click()
    page.get_by_text("已發布").first.wait_for()
    assert Meeting.objects.get(pk=draft.pk).is_published
    page.context.clear_cookies()

    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto(f"/meetings/{draft.pk}/")
    page.get_by_role("heading", name="肆、出席人員：江翠國中、新店國小（共 2 校）").wait_for()
    item = page.locator("li.minutes-entry", has_text="寒假營隊請於期限前填報")
    assert item.get_by_role("link", name="FUN Coding 活動計畫").is_visible()
    survey_link = page.locator("#sec-attachments").get_by_role(
        "link", name=re.compile("寒假青少年休閒育樂活動")
    )
    assert re.search(r"/signups/\d+/$", survey_link.get_attribute("href"))
    screenshot(page, "meetings-detail-attachments")
    response = page.request.get(
        item.get_by_role("link", name="FUN Coding 活動計畫").get_attribute("href")
    )
    assert response.status == 200 and response.body() == PDF
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "meetings-detail-attachments")


@pytest.mark.django_db(transaction=True)
def test_the_seed_links_its_winter_camp_survey_from_item_five(page, demo):
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto(f"/meetings/{demo.pk}/")
    item = page.locator("li.minutes-entry", has_text="FUN Coding 活動(技能研習)").first
    link = item.get_by_role("link", name=re.compile("寒假青少年休閒育樂活動開辦調查表"))
    link.click()
    page.wait_for_url(re.compile(r"/signups/\d+/"))
