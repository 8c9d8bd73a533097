"""In the browser: a bureau clerk uploads a PDF of minutes, sees them as they will look with the
warnings beside their lines, corrects the chair and the date there, and saves the draft."""

import re

import pytest

from meetings.models import Meeting
from tests.conftest import browser_login
from tests.e2e.a11y import serious_violations
from tests.meetings.pdfs import text_pdf

pytestmark = pytest.mark.browser

PAGES = [
    [
        "某某國小校務會議紀錄",
        "時間：3/15 下午2時",
        "地點：會議室",
        "會後請大家填寫問卷",
    ],
    ["提案討論", "案由：校慶日期，請討論。", "決議：照案通過。", "散會"],
]


@pytest.mark.django_db(transaction=True)
def test_a_pdf_upload_is_previewed_as_minutes_with_warnings_beside_their_lines(page, screenshot):
    from portal.demo import load as load_people

    load_people()
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto("/meetings/import/")
    page.get_by_label("或上傳檔案（.docx、.pdf、.txt、.html）").set_input_files(
        files=[{"name": "校務會議.pdf", "mimeType": "application/pdf", "buffer": text_pdf(PAGES)}]
    )
    page.get_by_role("button", name="預覽").click()
    # the job page goes to the result by itself (it may already have, on a quick job)
    page.wait_for_url("**/meetings/import/*/")
    page.get_by_role("heading", name="預覽：系統讀到的內容").wait_for(timeout=30_000)

    minutes = page.get_by_role("article", name="匯入後的會議紀錄")
    # the document as it will look, in the official order and numbering
    headings = minutes.get_by_role("heading").all_inner_texts()
    assert headings[:3] == [
        "壹、會議時間：（未讀到）",
        "貳、會議地點：會議室",
        "參、主持人：（未讀到）",
    ]
    assert minutes.get_by_text("校慶日期，請討論。", exact=True).is_visible()
    # the unplaced line is shown, with its warning on the same row, beside it
    row = page.locator(".pv-row", has_text="會後請大家填寫問卷")
    assert "第 4 行：無法歸類的文字" in row.locator(".pv-warn").inner_text()
    text_box, warn_box = (
        row.locator(".pv-text").bounding_box(),
        row.locator(".pv-warn").bounding_box(),
    )
    assert warn_box["x"] > text_box["x"] + text_box["width"] - 1  # beside, not below
    assert abs(warn_box["y"] - text_box["y"]) < 40
    assert serious_violations(page) == []
    screenshot(page, "meetings-import-preview-document")
    assert page.get_by_role("button", name="儲存為草稿").count() == 0  # no date: not yet

    page.get_by_label("會議日期").fill("112/3/15")
    page.get_by_label("主持人").fill("王校長")
    page.get_by_label("紀錄", exact=True).fill("李組長")
    page.get_by_role("button", name="套用修正並重新預覽").click()
    page.wait_for_url("**/meetings/import/*/")  # the job page goes to the result by itself
    page.get_by_text("已套用您修正的會議資訊").wait_for()
    assert minutes.get_by_role("heading", name="參、主持人：王校長").is_visible()
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "meetings-import-preview-document")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="儲存為草稿").click()
    # the save job's page goes to the draft by itself
    page.get_by_role("heading", name=re.compile("編輯草稿")).wait_for()
    meeting = Meeting.objects.get(title="某某國小校務會議")
    assert (str(meeting.held_on), meeting.chair, meeting.recorder) == (
        "2023-03-15",
        "王校長",
        "李組長",
    )


MISPLACED = "\n".join(
    [
        "某某國小校務會議紀錄",
        "時間：112 年 3 月 15 日下午 2 時",
        "地點：會議室",
        "業務報告",
        "一、資訊推廣組：",
        "(一)請各校更新校園網站。",
        "(二)資安演練於下週舉行。",  # belongs to 網管資安組
        "二、網管資安組：",
        "(一)防火牆設定請於月底前完成。",
        "提案討論",
        "案由：校慶日期，請討論。",
        "決議：照案通過。",
        "散會",
    ]
)


@pytest.mark.django_db(transaction=True)
def test_a_paragraph_in_the_wrong_division_is_moved_on_the_preview(page, screenshot):
    from portal.demo import load as load_people

    load_people()
    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(page, "bureau", "bureau-demo-108")
    page.goto("/meetings/import/")
    page.get_by_label("貼上會議紀錄全文").fill(MISPLACED)
    page.get_by_role("button", name="預覽").click()
    page.wait_for_url("**/meetings/import/*/")  # the job page goes to the result by itself
    page.get_by_role("heading", name="預覽：系統讀到的內容").wait_for()

    # a <details> and a plain form: no script is needed to move a paragraph
    page.get_by_text("移到…（資安演練於下週舉行。）").click()
    select = page.get_by_label("把「資安演練於下週舉行。」移到")
    select.select_option(label="業務報告／網管資安組（最後新增一項）")
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "meetings-import-preview-move")
    first = page.url
    page.locator("form", has=select).get_by_role("button", name="移動並重新預覽").click()
    page.wait_for_url(lambda url: "/meetings/import/" in url and url != first)
    page.get_by_text("已依您的指示移動 1 個段落").wait_for()

    rows = page.get_by_role("article", name="匯入後的會議紀錄").locator(".pv-text")
    texts = [t.strip() for t in rows.all_inner_texts()]
    moved = next(i for i, t in enumerate(texts) if "資安演練於下週舉行。" in t)
    assert moved > next(i for i, t in enumerate(texts) if "網管資安組" in t)
    side = page.locator('.pv-row[data-line="7"]').inner_text()
    assert "已依您的指示移到「業務報告／網管資安組" in side

    page.get_by_role("button", name="儲存為草稿").click()
    page.get_by_role("heading", name=re.compile("編輯草稿")).wait_for()
    meeting = Meeting.objects.get(title="某某國小校務會議")
    item = meeting.report_items.get(text="資安演練於下週舉行。")
    assert item.division.name == "網管資安組"
