"""The import preview shows the minutes as they will look, the warnings beside the lines they
concern, and lets the bureau correct a header field before saving."""

from datetime import date

import pytest
from django.urls import reverse

from meetings import importer
from meetings.models import Meeting
from portal.models import BackgroundJob

PASTED = "\n".join(
    [
        "某某國小校務會議紀錄",  # 1
        "時間：3/15 下午2時",  # 2 – no year
        "地點：會議室",  # 3
        "會後請大家填寫問卷",  # 4 – nowhere to go
        "提案討論",  # 5
        "案由：校慶日期，請討論。",  # 6
        "決議：照案通過。",  # 7
        "散會",  # 8
    ]
)


def test_every_part_of_the_minutes_is_a_block_with_its_warnings_beside_its_line(seed_text):
    r = importer.parse(PASTED)

    blocks, whole = importer.preview_blocks(r)

    by_label = {b["label"]: b for b in blocks if b["label"]}
    assert by_label["壹、會議時間"]["text"] == "（未讀到）"
    assert by_label["貳、會議地點"]["text"] == "會議室"
    assert by_label["參、主持人"]["text"] == "（未讀到）"
    assert by_label["案由"]["text"] == "校慶日期，請討論。" and by_label["案由"]["line"] == 6
    note = next(b for b in blocks if b["kind"] == "note" and b["line"] == 4)
    assert (note["text"], note["line"]) == ("會後請大家填寫問卷", 4)
    assert [w["line"] for w in note["warnings"]] == [4]  # beside the very line
    assert any("會議日期" in w["message"] for w in whole)  # of the whole document

    seed_blocks, _ = importer.preview_blocks(importer.parse(seed_text))
    placed = sum(len(b["warnings"]) for b in seed_blocks)
    assert placed == len([w for w in importer.parse(seed_text).warnings if w.line])


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    def _post(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return _post


def test_the_bureau_fixes_header_fields_on_the_preview_and_saves_them(
    login, bureau, divisions, run_jobs
):
    client = login(bureau)
    run_jobs(client, reverse("meetings:import"), {"text": PASTED})
    preview = BackgroundJob.objects.get()
    assert preview.result["ok"] is False  # no date: it cannot be saved as read

    html = client.get(reverse("meetings:import_preview", args=[preview.pk])).content.decode()
    assert "參、主持人" in html and "會後請大家填寫問卷" in html and "第 4 行：" in html
    assert "修正會議資訊" in html

    bad = client.post(
        reverse("meetings:import_fix", args=[preview.pk]),
        {"title": "某某國小校務會議", "held_on": "112/13/40", "start_time": "下午 2 時"},
    )
    assert bad.status_code == 400 and BackgroundJob.objects.count() == 1

    run_jobs(
        client,
        reverse("meetings:import_fix", args=[preview.pk]),
        {"title": "某某國小校務會議", "held_on": "112/3/15", "start_time": "下午 2 時",
         "place": "會議室", "chair": "王校長", "recorder": "李組長"},
    )  # fmt: skip
    fixed = BackgroundJob.objects.exclude(pk=preview.pk).get()
    assert fixed.result["ok"] is True, fixed.result["problems"]
    assert fixed.result["result"]["chair"] == "王校長"
    html = client.get(reverse("meetings:import_preview", args=[fixed.pk])).content.decode()
    assert "已套用您修正的會議資訊" in html and "參、主持人：<span>王校長</span>" in html

    run_jobs(client, reverse("meetings:import_save", args=[fixed.pk]), {})
    meeting = Meeting.objects.get()
    assert (meeting.held_on, meeting.chair, meeting.recorder) == (
        date(2023, 3, 15),
        "王校長",
        "李組長",
    )
    assert meeting.start_time.hour == 14
