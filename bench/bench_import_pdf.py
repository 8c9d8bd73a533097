"""Benchmark: a 200-page text PDF of minutes imported through the browser's job path (prints the
figure beside its limit, asserts nothing about time).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_x .venv/bin/python -m bench.bench_import_pdf

The PDF is written by tests/meetings/pdfs.py (CJK text in a Type0 font, as Word prints it):
a header page, business-report pages of numbered items, motions and 散會 on the last page. The
preview job (PDF read page by page with the progress bar, parse, checks) and the save job run as
Celery tasks, eagerly, in this process, as `make test` runs them; the worker's time is the same.
"""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from bench import throwaway_database  # noqa: E402

PAGES = 200
LIMIT_S = 30.0


def minutes_pages(count=PAGES):
    """The pages of one long meeting's minutes: (count) pages of ~40 lines, report items of
    three wrapped lines each under (一)…(二十) headings of the three divisions."""
    from meetings.importer.upload import _chinese

    body = []
    for d, division in enumerate(["資訊推廣組", "系統平臺組", "網管資安組"]):
        body.append(f"{_chinese(d + 1)}、{division}：")
        for group in range(1, 21):
            body.append(f"({_chinese(group)})第 {group} 類事項：")
            for item in range(1, 41):
                body += [
                    f"{item}.請各校於期限內完成校園網路設備與資訊系統的盤點，盤點結果",
                    "請填報於本局資訊設備管理系統，並由資訊組長確認後送出，逾期未填報",
                    "之學校將列入年度考核。",
                ]
    header = [
        "新北市九大分區資訊組長專業社群召集學校",
        "113 年度 3 月份聯席會議紀錄",
        "壹、會議時間：113 年 3 月 12 日（星期二）上午 10 時",
        "貳、會議地點：新北市教育研究發展中心 3 樓網管會議室",
        "參、主持人：吳科長佳珊",
        "紀錄：吳安絜",
        "肆、出席人員：詳簽到表",
        "伍、主席致詞：略",
        "陸、業務報告：",
    ]
    ending = [
        "柒、提案討論：",
        "案由：校園網路設備汰換期程，請討論。",
        "說明：依本局年度計畫辦理。",
        "決議：照案通過。",
        "捌、臨時動議：無。",
        "玖、散會：上午 11 時 30 分。",
    ]
    inner = count - 2
    cuts = [len(body) * i // inner for i in range(inner + 1)]
    return [header] + [body[a:b] for a, b in zip(cuts, cuts[1:], strict=False)] + [ending]


def main():
    with throwaway_database():
        run()


def run():
    import base64

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from meetings import tasks
    from meetings.views import IMPORT_PREVIEW, IMPORT_SAVE
    from portal import demo
    from portal.jobs import job_start
    from portal.models import BackgroundJob
    from tests.meetings.pdfs import text_pdf

    demo.load()
    bureau = get_user_model().objects.get(username="bureau")
    data = text_pdf(minutes_pages())
    print(f"PDF: {PAGES} pages, {len(data) / 1024:.0f} KB")

    started = time.perf_counter()
    with transaction.atomic():  # job_start queues on commit: the eager task runs here
        preview = job_start(
            kind=IMPORT_PREVIEW, title="bench", user=bureau, task=tasks.import_preview,
            params={"text": "", "pdf": base64.b64encode(data).decode()},
        )  # fmt: skip
    read = time.perf_counter() - started
    preview.refresh_from_db()
    assert preview.status == "done", (preview.status, preview.error)
    result = preview.result
    assert result["ok"], result["problems"]
    with transaction.atomic():
        save = job_start(
            kind=IMPORT_SAVE, title="bench", user=bureau, task=tasks.import_save,
            params={"text": preview.params["text"], "header": {}, "preview_job": preview.pk},
        )  # fmt: skip
    total = time.perf_counter() - started
    save = BackgroundJob.objects.get(pk=save.pk)
    assert save.status == "done", save.error
    items = result["result"]["item_count"]
    print(f"preview job (read {PAGES} pages, parse, check): {read:.1f} s; {items} report items")
    print(
        f"preview + save as draft: {total:.1f} s  (limit {LIMIT_S:.0f} s: "
        f"{'met' if total < LIMIT_S else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
