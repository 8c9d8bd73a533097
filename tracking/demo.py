"""Demo data: the tracked items of the seed minutes (meetings/seed/108-09.txt, 陸 and 柒).

meetings' demo runs first and imports the seed, which calls `minutes_import_apply`. This module
makes sure the items exist even when it did not (applying the same tables again changes nothing),
gives them a 承辦 and one 辦理情形. Idempotent.
"""

from datetime import date

from django.db import transaction

from meetings.models import Meeting, MeetingSeries, Motion
from portal.models import Division

from . import services
from .models import StatusUpdate, TrackedItem

SEED_DATE = date(2019, 9, 10)

SEED_TRACKED_ITEMS = [
    {
        "case_no": "1.",
        "subject": "提早進行校園網站黑快馬的會員機制結合 OpenID 可行性。",
        "previous_status": "已完成招標程序，5 月 29 日召開需求確認會議後即可開發，預計 6 月底完成，"
        "並於下次會議報告完成狀況。",
        "current_status": "1、已於 108 年 8 月 29 日提供線上更新，請各校於 itadmin. 學校 domain "
        "網址登入執行。 2、若學校系統版本低於 v5.2.101，請填申請書(註明升級)，交由本局通知廠商處理。",
        "resolution": "本案解列。",
    },
    {
        "case_no": "2.",
        "subject": "提供資訊安全 3 小時研習於教育局數位學習影音網，以利學校人員進行線上研習。",
        "previous_status": "/",
        "current_status": "目前已拍攝資安研習影片(如:資安通報)，9 月 2 日已錄製本局資安顧問研習之"
        "資安宣導教育訓練影片，預計於 9 月 23 日放置於本局數位學習影音網供學校線上學習；教育部目前提供 "
        "K12(中小學磨課師計畫學習平臺)，或至 E 等公務園學習平臺等，皆可透過線上學習取得時數。",
        "resolution": "本案解列。",
    },
]

SEED_NEW_TRACKED_ITEMS = [
    {
        "case_no": "1",
        "subject": "為防範學生資料外洩，建議學校人員在校務行政系統撈取大量學生資料時，"
        "需有校內簽核流程，方可進行。",
    },
    {
        "case_no": "2",
        "subject": "有關校務行政系統還原密碼事宜，現行由學校資訊組長協助，但考量資訊組長業務量"
        "及寒暑假時間，是否由廠商(全誼)客服協助還原。",
    },
]

# 臨時動議四、五 of the seed: the motions that opened the two new items (used only when the
# meetings demo has not created the seed meeting).
SEED_MOTIONS = [
    (
        4,
        "因學校家長反映接獲補習班招生電話，懷疑為學校洩露學生資料，建議可否訂定相關預防措施，提請討論。",
        "因本科業務內容含大量學生資料僅校務行政系統，排除補習班利用其他管道獲取學生資料，"
        "請業務同仁評估於校務行政系統撈取大量學生資料時，需有校內簽核流程之可行性，"
        "本案列為下次會議列管事項。",
    ),
    (
        5,
        "有關校務行政系統還原密碼事宜，現行由學校資訊組長協助，但考量資訊組長業務量及寒暑假時間，"
        "是否由廠商(全誼)客服協助還原，提請討論。",
        "本案列為下次會議列管事項。",
    ),
]

# Which division follows each item up (by the wording of its 案由).
DIVISION_BY_KEYWORD = [
    ("OpenID", "系統平臺組"),
    ("資訊安全", "網管資安組"),
    ("學生資料", "系統平臺組"),
    ("還原密碼", "系統平臺組"),
]

DEMO_UPDATE = (
    "已請校務行政系統廠商評估「大量匯出學生資料需經校內簽核」功能，預計 10 月會議前提出規劃。"
)


def _seed_meeting():
    meeting = Meeting.objects.filter(held_on=SEED_DATE).order_by("id").first()
    if meeting is not None:
        return meeting, False
    series, _ = MeetingSeries.objects.get_or_create(
        name="九大分區資訊組長聯席會議", defaults={"organiser": "新北市政府教育局"}
    )
    meeting = Meeting.objects.create(
        series=series,
        title="108 年度 9 月份聯席會議",
        held_on=SEED_DATE,
        place="新北市教育研究發展中心 3 樓網管會議室",
        chair="吳科長佳珊",
        recorder="吳安絜",
        status=Meeting.Status.PUBLISHED,
    )
    for position, subject, resolution in SEED_MOTIONS:
        Motion.objects.create(
            meeting=meeting,
            kind=Motion.Kind.EXTEMPORE,
            position=position,
            subject=subject,
            resolution=resolution,
        )
    return meeting, True


@transaction.atomic
def load(stdout=None):
    from django.contrib.auth import get_user_model

    meeting, created = _seed_meeting()
    services.minutes_import_apply(
        meeting=meeting,
        tracked_items=SEED_TRACKED_ITEMS,
        new_tracked_items=SEED_NEW_TRACKED_ITEMS,
    )
    items = list(
        TrackedItem.objects.filter(reviews__meeting=meeting)
        | TrackedItem.objects.filter(origin_meeting=meeting)
    )
    for item in {i.pk: i for i in items}.values():
        if item.division_id is None:
            name = next((d for k, d in DIVISION_BY_KEYWORD if k in item.subject), None)
            division = Division.objects.filter(name=name).first() if name else None
            if division is not None:
                services.item_assign(item=item, division=division, reason="示範資料")
    first_new = TrackedItem.objects.filter(origin_meeting=meeting).order_by("case_no").first()
    # posted by the demo bureau clerk, of 系統平臺組 like both open items; the second is left
    # without one, for the clerk's own week
    clerk = get_user_model().objects.filter(username="bureau").first()
    if first_new is not None and clerk is not None and not StatusUpdate.objects.exists():
        services.status_update_post(item=first_new, user=clerk, text=DEMO_UPDATE)
    # the demo coordinator and convener follow it: their 本週待辦 shows its new 辦理情形
    if first_new is not None:
        for follower in get_user_model().objects.filter(username__in=["coordinator", "convener"]):
            services.subscription_set(item=first_new, user=follower, subscribed=True)
    if stdout is not None:
        opened = TrackedItem.objects.filter(state=TrackedItem.State.OPEN).count()
        stdout.write(
            f"列管事項：{TrackedItem.objects.count()} 項（列管中 {opened} 項）"
            + ("；另建立了種子會議" if created else "")
        )
