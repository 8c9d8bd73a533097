"""On the import preview the bureau moves a paragraph that went to the wrong section or item;
the same text is read again with the moves replayed, so the save stores what the preview showed."""

import pytest
from django.urls import reverse

from meetings import importer, services
from meetings.models import Meeting, ReportItem
from portal.models import BackgroundJob

MINUTES = "\n".join(
    [
        "某某國小校務會議紀錄",  # 1
        "時間：112 年 3 月 15 日下午 2 時",  # 2
        "地點：會議室",  # 3
        "會後請大家填寫問卷",  # 4 – kept in 會議地點, unplaced
        "業務報告",  # 5
        "一、資訊推廣組：",  # 6
        "(一)請各校更新校園網站。",  # 7
        "(二)資安演練於下週舉行。",  # 8 – belongs to 網管資安組
        "二、網管資安組：",  # 9
        "(一)防火牆設定請於月底前完成。",  # 10
        "提案討論",  # 11
        "案由：校慶日期，請討論。",  # 12
        "決議：照案通過。",  # 13
        "散會",  # 14
    ]
)


def _block(blocks, text):
    return next(b for b in blocks if b["text"] == text)


def test_an_unplaced_paragraph_moved_to_a_motion_becomes_its_explanation():
    r = importer.parse(MINUTES)
    note = _block(importer.preview_blocks(r)[0], "會後請大家填寫問卷")
    assert note["kind"] == "note" and note["move"]

    importer.paragraph_move(r, note["move"], "motion:0:explanation")

    assert r.motions[0].explanation == "會後請大家填寫問卷"
    assert "會後請大家填寫問卷" not in sum(r.notes.values(), [])
    # its warnings stay, with one more saying where the bureau put it
    assert [w.message for w in r.warnings if w.line == 4][-1].startswith("已依您的指示移到")
    assert any("無法歸類" in w.message for w in r.warnings if w.line == 4)


def test_a_report_item_moved_to_another_division_keeps_its_line_and_children():
    r = importer.parse(MINUTES)
    item = _block(importer.preview_blocks(r)[0], "資安演練於下週舉行。")

    importer.paragraph_move(r, item["move"], "division:1")

    first, second = r.divisions
    assert [i.text for i in first.items] == ["請各校更新校園網站。"]
    assert [i.text for i in second.items] == ["防火牆設定請於月底前完成。", "資安演練於下週舉行。"]
    assert second.items[-1].line == 8
    blocks, _ = importer.preview_blocks(r)  # re-rendered in the new place
    texts = [b["text"] for b in blocks]
    assert texts.index("資安演練於下週舉行。") > texts.index("網管資安組")


def test_moves_replay_in_order_on_positions_the_preview_showed():
    r = importer.parse(MINUTES)
    # first 資安演練 goes under the other division's item; then (positions of the new preview)
    # the stray line becomes an item under it
    importer.paragraph_move(r, "item:0:1", "item:1:0")
    note = _block(importer.preview_blocks(r)[0], "會後請大家填寫問卷")
    importer.paragraph_move(r, note["move"], "item:1:0.0")

    again = importer.moves_apply(importer.parse(MINUTES), [["item:0:1", "item:1:0"],
                                                         [note["move"], "item:1:0.0"]])  # fmt: skip
    for result in (r, again):
        moved = result.divisions[1].items[0].children[0]
        assert moved.text == "資安演練於下週舉行。"
        assert [c.text for c in moved.children] == ["會後請大家填寫問卷"]


@pytest.mark.parametrize(
    ("paragraph", "target", "message"),
    [
        ("item:0:9", "division:1", "找不到要移動的段落"),
        ("note:place:0", "division:7", "找不到要移到的位置"),
        ("item:0:0", "item:0:0", "移到它自己底下"),
        ("motion:0:explanation", "division:0", "找不到要移動的段落"),  # it has no 說明
    ],
)
def test_a_move_that_cannot_be_made_is_refused_and_changes_nothing(paragraph, target, message):
    r = importer.parse(MINUTES)
    before = importer.preview_blocks(importer.parse(MINUTES))[0]

    with pytest.raises(importer.MoveRefused, match=message):
        importer.paragraph_move(r, paragraph, target)

    assert importer.preview_blocks(r)[0] == before


def test_an_item_cannot_move_under_its_own_child():
    r = importer.parse(MINUTES)
    importer.paragraph_move(r, "item:0:1", "item:0:0")  # 資安演練 under 更新校園網站
    with pytest.raises(importer.MoveRefused, match="自己底下的項目"):
        importer.paragraph_move(r, "item:0:0", "item:0:0.0")


def test_the_saved_draft_has_the_paragraphs_where_the_moves_put_them(bureau, divisions):
    meeting = services.meeting_import(
        text=MINUTES.replace("資訊推廣組", divisions[0].name).replace(
            "網管資安組", divisions[2].name
        ),
        user=bureau,
        moves=[["item:0:1", "division:1"], ["note:place:0", "section:remarks"]],
    )

    moved = ReportItem.objects.get(meeting=meeting, text="資安演練於下週舉行。")
    assert moved.division == divisions[2]
    assert meeting.chair_remarks == "會後請大家填寫問卷"
    assert "place" not in meeting.section_notes


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    def _post(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return _post


def test_the_bureau_moves_a_paragraph_on_the_preview_and_saves_it_so(
    login, bureau, divisions, run_jobs
):
    text = MINUTES.replace("資訊推廣組", divisions[0].name).replace("網管資安組", divisions[2].name)
    client = login(bureau)
    run_jobs(client, reverse("meetings:import"), {"text": text})
    first = BackgroundJob.objects.get()
    html = client.get(first.result_url).content.decode()
    assert 'name="paragraph" value="note:place:0"' in html and "移動並重新預覽" in html

    run_jobs(client, reverse("meetings:import_move", args=[first.pk]),
             {"paragraph": "note:place:0", "to": "motion:0:explanation"})  # fmt: skip
    moved = BackgroundJob.objects.exclude(pk=first.pk).get()
    assert moved.params["moves"] == [["note:place:0", "motion:0:explanation"]]
    html = client.get(moved.result_url).content.decode()
    assert "已依您的指示移動 1 個段落" in html
    blocks = moved.result["result"]["document"]
    assert _block(blocks, "會後請大家填寫問卷")["label"] == "說明"

    run_jobs(client, reverse("meetings:import_save", args=[moved.pk]), {})
    assert Meeting.objects.get().motions.get().explanation == "會後請大家填寫問卷"


def test_a_move_to_nowhere_is_refused_with_a_message_and_starts_no_job(
    login, bureau, divisions, run_jobs
):
    client = login(bureau)
    run_jobs(client, reverse("meetings:import"), {"text": MINUTES})
    job = BackgroundJob.objects.get()
    response = client.post(
        reverse("meetings:import_move", args=[job.pk]),
        {"paragraph": "note:place:0", "to": "division:99"}, follow=True,
    )  # fmt: skip
    assert "找不到要移到的位置" in response.content.decode()
    assert BackgroundJob.objects.count() == 1
