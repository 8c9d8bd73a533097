"""A PDF's warnings name the page and its line; pasted text's the line; a long PDF's job moves
its progress bar page by page."""

import base64

from meetings import importer, tasks
from meetings.views import IMPORT_PREVIEW
from portal.jobs import job_start
from tests.meetings.pdfs import text_pdf

PAGES = [
    ["某某國小校務會議紀錄", "時間：112 年 3 月 15 日下午 2 時", "地點：會議室"],
    ["會後請大家填寫問卷", "提案討論", "案由：校慶日期，請討論。", "決議：照案通過。"],
    None,  # a page with no text
    ["臨時動議：無。", "散會"],
]


def test_a_pdf_warning_names_its_page_and_the_line_on_that_page():
    r = importer.parse(importer.pdf_text(text_pdf(PAGES)))

    stray = next(w for w in r.warnings if "無法歸類" in w.message)
    assert r.where(stray.line) == "第 2 頁第 1 行"
    data = r.as_json()["warnings"]
    assert {"line": 1, "page": 2, "message": stray.message} in data
    blocks, _ = importer.preview_blocks(r)
    note = next(b for b in blocks if b["text"] == "會後請大家填寫問卷")
    assert note["where"] == "第 2 頁第 1 行"
    assert note["warnings"][0]["where"] == "第 2 頁第 1 行"
    # the empty page still counts: 散會 is on page 4
    assert r.locate(next(line for _k, _w, line in r.top_sections if _k == "adjourn")) == (4, 2)


def test_pasted_text_warnings_name_the_line_only():
    text = "\n".join(p for page in PAGES if page for p in page)
    r = importer.parse(text)
    stray = next(w for w in r.warnings if "無法歸類" in w.message)
    assert r.where(stray.line) == "第 4 行"
    assert {"line": 4, "page": None, "message": stray.message} in r.as_json()["warnings"]


def test_import_minutes_json_shows_page_and_line(tmp_path, capsys):
    import json

    from django.core.management import call_command

    path = tmp_path / "minutes.pdf"
    path.write_bytes(text_pdf(PAGES))
    call_command("import_minutes", str(path), "--dry-run", "--json")
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any(w["page"] == 2 and w["line"] == 1 for w in warnings)


def test_the_pdf_job_reports_progress_page_by_page_in_increasing_steps(
    bureau, divisions, django_capture_on_commit_callbacks
):
    pages = [PAGES[0]] + [[f"第 {n} 段說明文字，內容照常。"] for n in range(8)] + [PAGES[3]]
    with django_capture_on_commit_callbacks(execute=False):
        job = job_start(
            kind=IMPORT_PREVIEW, title="t", user=bureau, task=tasks.import_preview,
            params={"text": "", "pdf": base64.b64encode(text_pdf(pages)).decode()},
        )  # fmt: skip
    steps = []

    tasks.preview_work(job, lambda done, total, message="": steps.append((done, total)))

    pdf_steps = [s for s in steps if s[1] == len(pages) + 1]
    assert [done for done, _t in pdf_steps] == list(range(1, len(pages) + 1))  # one a page
    fractions = [done / total for done, total in steps]
    assert fractions == sorted(fractions) and fractions[-1] < 1  # never backwards, not done yet
