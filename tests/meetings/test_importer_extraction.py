"""What extraction and publishing do to minutes text, one class at a time: each test is a
small made-up document showing the class, never a file of the corpus."""

from datetime import date, time

from meetings import importer
from meetings.importer.text import collapse_repeats, split_run_on


def parse(text):
    return importer.parse(text)


def test_markdown_and_html_markup_is_read_as_its_text():
    r = parse(
        '---\nlayout: page\ntitle: "113年11月 第一次會議紀錄"\n---\n'
        "**時間：** 113/11/12 19:00~20:45<br>\n"
        "**地點：** 社區管理中心辦公室<br />\n"
        "**主席：** 郭子仁<br>**記錄：** 洪麗雪<br>\n"
        "---\n### 貳、議題討論：\n"
        "**議題 1. 建立區權人 Line 社群.** <br>\n**決議：** 通過&nbsp;議案.<br>\n"
        "### 參、散會\n"
    )

    assert r.title == "113年11月 第一次會議"
    assert (r.held_on, r.start_time) == (date(2024, 11, 12), time(19, 0))
    assert (r.place, r.chair, r.recorder) == ("社區管理中心辦公室", "郭子仁", "洪麗雪")
    assert [(m.subject, m.resolution) for m in r.motions] == [
        ("建立區權人 Line 社群.", "通過 議案.")
    ]


def test_bold_drawn_several_times_is_read_once():
    assert collapse_repeats("會會會議議議紀紀紀錄錄錄") == "會議紀錄"
    assert collapse_repeats("紀紀紀紀錄錄錄錄：王小明") == "紀錄：王小明"
    # ordinary doubled words stay
    assert collapse_repeats("謝謝大家，人人有獎") == "謝謝大家，人人有獎"


def test_a_document_on_one_line_is_cut_before_its_headings_and_labels():
    one_line = (
        "某某國小校務會議紀錄 一、時間：112年3月15日下午2時 二、地點：會議室 "
        "三、主席：王校長 紀錄：李組長 四、提案討論 案由：校慶日期，請討論。 "
        "決議：照案通過。 五、臨時動議：無 六、散會"
    )
    assert len(split_run_on(one_line)) >= 8

    r = parse(one_line)

    assert (r.held_on, r.start_time) == (date(2023, 3, 15), time(14, 0))
    assert (r.place, r.chair, r.recorder) == ("會議室", "王校長", "李組長")
    assert [(m.subject, m.resolution) for m in r.motions] == [("校慶日期，請討論。", "照案通過。")]


def test_header_fields_come_in_any_order_under_other_label_words():
    r = parse(
        "某委員會會議記錄\n日 期：中華民國 104 年 1 月 13 日上午 10 時 6 分\n"
        "出 席：議員林武忠等 62 人\n列 席：市政府\n主 席：康議長裕成\n記 錄：曾雅慧、吳麗珍\n"
        "開會地點：本會議事廳\n"
    )

    assert (r.held_on, r.start_time) == (date(2015, 1, 13), time(10, 6))
    assert (r.chair, r.recorder, r.place) == ("康議長裕成", "曾雅慧、吳麗珍", "本會議事廳")


def test_other_chair_and_recorder_labels():
    r = parse("某會會議記錄\n時間:2003.01.04 上午9:30~13:30\n會議主席:曾尹彥\n會議記錄:莊其蓁\n")
    assert (r.chair, r.recorder) == ("曾尹彥", "莊其蓁")
    r = parse("某會會議記錄\n時間:2003.01.04\n主持人兼司儀:吳信增\n紀錄人：古奕元\n")
    assert (r.chair, r.recorder) == ("吳信增", "古奕元")


def motions_of(body):
    r = parse("某會會議紀錄\n時間：112年3月15日\n" + body)
    return [(m.kind, m.subject, m.resolution) for m in r.motions]


def test_motions_as_numbered_items_without_labels():
    assert motions_of(
        "討論事項:\n一、宿舍裝設新監視器案\n1. 全體投票贊成裝設\n2. 經費不足時以長走廊優先\n"
        "二、後門門禁案\n1. 實施門禁管制。\n"
    ) == [
        ("proposal", "宿舍裝設新監視器案", "1. 全體投票贊成裝設\n2. 經費不足時以長走廊優先"),
        ("proposal", "後門門禁案", "1. 實施門禁管制。"),
    ]


def test_a_numbered_subject_wrapped_over_lines_then_its_resolution():
    assert motions_of(
        "乙、討 論 事 項\n一、討論就今年元旦期間礁溪大塞車引發民怨，而可能影響春節期間交通運\n"
        "輸問題，縣政府如何因應。\n大會決議：下午繼續討論。\n"
    ) == [
        (
            "proposal",
            "討論就今年元旦期間礁溪大塞車引發民怨，而可能影響春節期間交通運輸問題，縣政府如何因應。",
            "下午繼續討論。",
        )
    ]


def test_motion_records_starting_with_the_mover():
    assert motions_of(
        "乙、臨 時 動 議\n動 議 人：陳鴻禧 編號：臨動字第 01 號\n附 議 人：林東成\n"
        "案 由：建請縣政府增設路口監視器案。\n辦 法：請縣政府編列預算。\n大會決議：照案通過。\n"
        "動 議 人：林東成\n案 由：爭取龜山島管理權案。\n大會決議：照案通過。\n"
    ) == [
        ("extempore", "建請縣政府增設路口監視器案。", "照案通過。"),
        ("extempore", "爭取龜山島管理權案。", "照案通過。"),
    ]


def test_motions_named_by_number_words():
    assert motions_of(
        "提案討論\n提案一：校慶日期，請討論。\n說明：如附件。\n決議：照案通過。\n"
        "第二案：運動會日期。\n決定：延期。\n議題 3. 換電梯.\n表決：8 票通過。\n"
        "臨時動議：無\n散會\n"
    ) == [
        ("proposal", "校慶日期，請討論。", "照案通過。"),
        ("proposal", "運動會日期。", "延期。"),
        ("proposal", "換電梯.", "8 票通過。"),
    ]


def test_a_topic_and_its_agreement_on_one_line():
    assert motions_of("討論事項：\n1. 關於社團定位:小狼團不屬於學校社團。\n")[0][1:] == (
        "關於社團定位",
        "小狼團不屬於學校社團。",
    )


def test_dates_and_times_as_minutes_write_them():
    from meetings.importer.dates import find_when

    cases = {
        "中華民國九十五年三月八日下午二時": (date(2006, 3, 8), time(14, 0)),
        "民國1120315(星期三)下午2": (date(2023, 3, 15), time(14, 0)),  # 年月日時 dropped
        "106.5.12(三)PM1:30": (date(2017, 5, 12), time(13, 30)),
        "2016-10-22 2pm-5pm": (date(2016, 10, 22), time(14, 0)),
        "中華民國 104 年 1 月 21 日上午 10 時 40 分（中午 12": (date(2015, 1, 21), time(10, 40)),
        "中華民國110年7月29日(星期四)上午10時。": (date(2021, 7, 29), time(10, 0)),
        "民國九十六年三月二日星期五": (date(2007, 3, 2), None),
        "二0二五年八月十二日 晚上七點半": (date(2025, 8, 12), time(19, 30)),
        "20250812 會議記錄": (date(2025, 8, 12), None),
    }
    for text, expected in cases.items():
        assert find_when(text) == expected, text


def test_a_date_without_a_year_is_placed_by_the_title():
    r = parse("# g0v Summit 2018 第四次工作會議\n## 活動資訊\n時間：4/28 (Sat) 14:00-17:00\n")
    assert (r.held_on, r.start_time) == (date(2018, 4, 28), time(14, 0))

    r = parse("# 20240213 會議紀錄\n時間：1/30 22:00\n")
    assert (r.held_on, r.start_time) == (date(2024, 2, 13), time(22, 0))
    assert any("沒有年份" in w.message for w in r.warnings)


def test_a_date_only_in_the_title():
    r = parse("# 20250812 會議記錄\n線上出席：nonumpa\n")
    assert r.held_on == date(2025, 8, 12)


def test_a_label_word_inside_a_sentence_is_not_a_field():
    r = parse("某會會議紀錄\n時間：2016-10-22\n1.  主持人（群）養成的部分，先請國威主持。\n")
    assert r.chair is None
    r = parse("某會會議紀錄\n時間：2016-10-22\n總紀錄：王銓興\n主席（代理）：吳議長碧珠\n")
    assert (r.chair, r.recorder) == ("吳議長碧珠", "王銓興")


def test_a_heading_of_no_known_section_ends_the_motions_and_is_kept():
    r = parse(
        "某會會議紀錄\n時間：113/11/12\n### 貳、議題討論\n議題 1. 換電梯.\n決議：通過.\n"
        "### 肆、自由發言\n住戶甲建議加裝監視器。\n### 伍、散會\n"
    )
    assert [(m.subject, m.resolution) for m in r.motions] == [("換電梯.", "通過.")]
    assert "住戶甲建議加裝監視器。" in r.notes["proposals"]
    assert any(w.line == 7 for w in r.warnings)


def test_bullets_as_motions_and_agreements():
    assert motions_of(
        "### 共識：\n* 以合作六月大松為方向。\n* 國際講者由 COSCUP 安排\n## 臨時動議\n"
        "- 總統盃黑客松借場宣傳 [name=Justina]\n  [Slack 討論串](https://example.org/x)\n"
    ) == [
        ("proposal", "以合作六月大松為方向。", ""),
        ("proposal", "國際講者由 COSCUP 安排", ""),
        ("extempore", "總統盃黑客松借場宣傳", ""),
    ]


def test_the_heading_label_as_the_subject_and_what_explains_it():
    assert motions_of("- 提案：針對既有的投稿，是否要寄信？\n    - 也可以順便詢問宣傳。\n") == [
        ("proposal", "針對既有的投稿，是否要寄信？", "")
    ]


def test_an_empty_extempore_section_takes_no_motion_from_what_follows():
    assert motions_of("討論提案：無\n臨時動議：無\n主席結論:\n感謝各位董事顧問支持本會\n") == []


def test_a_speaker_before_the_subject_and_a_second_resolution_line():
    assert motions_of(
        "五、臨時動議:\n1.許一成顧問:校服再利用,可捐給需要的學生。\n- 決議:清潔費用由家長會支出。\n"
        "- 決議:換校服先做問卷。\n"
    ) == [
        ("extempore", "校服再利用,可捐給需要的學生。", "清潔費用由家長會支出。\n換校服先做問卷。")
    ]


def test_a_numbered_subject_ending_with_a_colon_goes_on_over_the_next_lines():
    assert motions_of(
        "乙、宣讀議案交付審查\n一、請審議市政府提案第 33 號案：\n「請審議 104 年度總預\n算案。」\n"
        "決議：交付各有關委員會審查。\n"
    ) == [
        (
            "proposal",
            "請審議市政府提案第 33 號案：「請審議 104 年度總預算案。」",
            "交付各有關委員會審查。",
        )
    ]


def test_a_tracking_table_with_pipes_under_another_title_and_other_columns():
    r = parse(
        "某校行政會議紀錄\n時間：112年3月15日\n"
        "二、歷次會議決議事項辦理情形：\n"
        "| 序號 | 決議事項 | 執行單位 | 執行情形 | 預定完成日期 | 列管建議 |\n"
        "|---|---|---|---|---|---|\n"
        "| 1 | 更新校園網站 | 資訊組 | 已完成招標 | 112/6/30 | 解除列管 |\n"
        "| 2 | 汰換投影機 | 總務處 | 採購中 | 112/8/31 | 繼續列管 |\n"
        "三、提案討論\n案由：校慶日期。\n決議：照案通過。\n"
    )

    assert r.tracked_items == [
        {
            "case_no": "1",
            "subject": "更新校園網站",
            "previous_status": "",
            "current_status": "已完成招標",
            "resolution": "解除列管",
        },
        {
            "case_no": "2",
            "subject": "汰換投影機",
            "previous_status": "",
            "current_status": "採購中",
            "resolution": "繼續列管",
        },
    ]
    assert [m.subject for m in r.motions] == ["校慶日期。"]


def test_tracked_items_as_a_list_with_their_status_under_each():
    r = parse(
        "# 20250812 會議記錄\n## 本次會議待追蹤項目 (由 2025/08/05 會議記錄結案)\n"
        "*   **[Johnson]** 資訊安全權限設定\n    * Not yet\n*   **小聚籌備**:\n"
        "## url-resolver update\n- 跑實驗\n"
    )
    assert [(i["subject"], i["resolution"]) for i in r.tracked_items] == [
        ("[Johnson] 資訊安全權限設定", "Not yet"),
        ("小聚籌備", ""),
    ]
    assert "跑實驗" in r.notes["tracked"]


def test_to_dos_after_the_discussion_are_new_tracked_items():
    r = parse(
        "# 2022.4.19 會議記錄\n### 共識：\n* 合作六月大松。\n### 待辦：\n"
        "給 Peter 六月大松時程表\n下週二 (4/26) 前獲得回覆\n"
    )
    assert [i["subject"] for i in r.new_tracked_items] == [
        "給 Peter 六月大松時程表",
        "下週二 (4/26) 前獲得回覆",
    ]


def test_a_month_and_day_in_a_school_year_and_a_time_after_them():
    r = parse("某某國小112學年度第2次校務會議紀錄\n時間：3/15 下午2時\n")
    assert (r.held_on, r.start_time) == (date(2024, 3, 15), time(14, 0))
    r = parse("某某國小112學年度第1次校務會議紀錄\n時間：9月1日上午9時\n")
    assert (r.held_on, r.start_time) == (date(2023, 9, 1), time(9, 0))
