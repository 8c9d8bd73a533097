"""In a real browser: a convener's survey page is a district view (each school's status and
已回覆 x/y, no link they may not follow), and the filing table fits a 375 px phone."""

import pytest

from portal.demo import load as load_portal_demo
from signups.demo import load as load_signups_demo
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations

pytestmark = pytest.mark.browser

TITLE = "新北市政府教育局辦理109年度寒假青少年休閒育樂活動開辦調查表"


def hrefs_answer(page):
    """Every link on the page answers without 403/404 for this person."""
    for href in set(
        page.eval_on_selector_all(
            "main a[href^='/']", "els => els.map(e => e.getAttribute('href'))"
        )
    ):
        status = page.request.get(href).status
        assert status < 400, (href, status)


@pytest.mark.django_db(transaction=True)
def test_the_convener_sees_the_districts_schools_and_how_many_answered(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    browser_login(page, "convener", "convener-demo-108")
    page.goto("/signups/")
    summary = page.locator(".district-answered").first.inner_text()
    assert "已回覆 1/" in summary  # the demo's 新店國小 has sent its table
    page.get_by_role("link", name="已回覆 1/", exact=False).first.click()
    page.get_by_role("heading", name=TITLE).wait_for()
    assert page.locator("#district-answered").inner_text().startswith("已回覆 1/")
    xindian = page.locator("tr[data-school='新店國小']").inner_text()
    assert "已送出" in xindian and "1 列" in xindian
    assert page.locator("tbody tr").count() > 1
    assert serious_violations(page) == []
    hrefs_answer(page)
    screenshot(page, "signups-district")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "signups-district")


@pytest.mark.django_db(transaction=True)
def test_the_filing_table_is_no_wider_than_the_header_at_375_px(page, screenshot):
    load_portal_demo()
    load_signups_demo()
    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(page, "coordinator", "coordinator-demo-108")
    page.goto("/signups/")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name="開辦課程").wait_for()
    header = page.locator("header").first.bounding_box()
    table = page.locator(".offer-table").bounding_box()
    assert table["x"] + table["width"] <= header["x"] + header["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for name in ("course_name", "activity", "capacity"):
        box = page.locator(f"[name='rows-0-{name}']").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
    screenshot(page, "signups-filing-375")


@pytest.mark.django_db(transaction=True)
def test_a_district_filed_survey_is_filed_by_the_convener_in_the_browser(page, screenshot):
    """The conveners collect the timetables (捌、一、(八)): 文山分區's convener opens the survey
    from the home page's to-do, types one row and sends it for the district; 新店國小's
    coordinator is not asked and only reads the row sent for it; the bureau's grid lists the nine districts."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from signups import bureau_template, services
    from signups.models import FiledBy
    from tests.signups.test_bureau_template import SIX, sheet

    load_portal_demo()
    bureau = get_user_model().objects.get(username="bureau")
    title, headers, example, notes, _ = SIX["timetables"]
    now = timezone.now()
    survey = services.survey_from_proposal(
        proposal=bureau_template.read_template(sheet(title, headers, example, notes)), title="",
        by=bureau, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=7),
    )  # fmt: skip
    services.survey_audience_set(survey=survey, by=bureau, district_ids=[], levels=[],
                                 filed_by=FiledBy.DISTRICT)  # fmt: skip
    services.survey_publish(survey=survey, by=bureau)
    labels = {c.label: c.key for c in survey.table()[0]}

    browser_login(page, "convener", "convener-demo-108")
    page.get_by_role("link", name=f"填報本分區的「{title}」").click()
    page.get_by_text("填報分區：文山分區").wait_for()
    for label, text in (("參加年級", "3~6年級"), ("每週節數", "2"), ("上課時間", "週三第5節"),
                        ("授課教師", "陳老師")):  # fmt: skip
        page.locator(f"[name='rows-0-{labels[label]}']").fill(text)
    # the row is for another school of the district, picked from the district's list
    assert page.locator("#district-schools option[value='新店國小']").count() == 1
    page.locator(f"[name='rows-0-{labels['學校']}']").fill("新店國小")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "signups-district-rows-for-schools")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="送出", exact=True).click()
    assert page.locator("#response-status").inner_text() == "已送出"
    assert page.locator(f"[name='rows-0-{labels['學校']}']").input_value() == "新店國小"
    assert serious_violations(page) == []

    page.get_by_role("button", name="登出").click()
    browser_login(page, "coordinator", "coordinator-demo-108")
    assert f"填報「{title}」" not in page.locator("#todo-h").locator("..").inner_text()
    page.goto("/signups/")
    card = page.locator("section.card", has_text=title)
    assert "本調查由分區召集學校代填" in card.inner_text()
    hrefs_answer(page)
    # it reads, without a form, the row its convener sent for it
    card.get_by_role("link", name="查看為貴校填寫的資料").click()
    assert "陳老師" in page.locator("main").inner_text()
    assert page.locator("[name='action']").count() == 0
    assert serious_violations(page) == []

    page.get_by_role("button", name="登出").click()
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto(f"/signups/{survey.pk}/grid/")
    assert page.locator("tr[data-district]").count() == 9
    assert "已送出" in page.locator("tr[data-district='文山分區']").inner_text()
    assert page.locator("#answered-total").inner_text() == "1"
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
