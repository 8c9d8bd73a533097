"""The admin: items with their rows inline, an export action in Chinese, no deleting case numbers."""

from django.urls import reverse

from tracking.models import TrackedItem


def test_the_admin_lists_and_shows_items(login, sysadmin, imported_seed):
    client = login(sysadmin)
    assert (
        "108-09-01" in client.get(reverse("admin:tracking_trackeditem_changelist")).content.decode()
    )
    item = TrackedItem.objects.get(case_no="108-09-R01")
    page = client.get(reverse("admin:tracking_trackeditem_change", args=[item.pk])).content.decode()
    assert "已完成招標程序" in page  # the frozen review, inline


def test_the_export_action_speaks_chinese(login, sysadmin, imported_seed):
    ids = list(TrackedItem.objects.values_list("pk", flat=True))
    response = login(sysadmin).post(
        reverse("admin:tracking_trackeditem_changelist"),
        {"action": "export_admin_action", "_selected_action": ids},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "格式" in body and f"匯出選取的 {len(ids)} 筆資料" in body
    assert "Format" not in body


def test_case_numbers_cannot_be_deleted_in_the_admin(login, sysadmin, imported_seed):
    item = TrackedItem.objects.get(case_no="108-09-01")
    response = login(sysadmin).get(reverse("admin:tracking_trackeditem_delete", args=[item.pk]))
    assert response.status_code == 403


def test_changing_the_division_in_the_admin_leaves_a_change_row(
    login, sysadmin, imported_seed, platform
):
    item = TrackedItem.objects.get(case_no="108-09-01")
    response = login(sysadmin).post(
        reverse("admin:tracking_trackeditem_change", args=[item.pk]),
        {
            "subject": item.subject,
            "division": platform.pk,
            "follows_up": "",
            **{f"{p}-TOTAL_FORMS": "0" for p in ("reviews", "updates", "changes")},
            **{f"{p}-INITIAL_FORMS": "0" for p in ("reviews", "updates", "changes")},
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert item.changes.filter(field="division", new="系統平臺組", actor=sysadmin).exists()


def test_the_admin_export_downloads_a_spreadsheet(login, sysadmin, imported_seed):
    from io import BytesIO

    from import_export.formats.base_formats import XLSX
    from openpyxl import load_workbook

    from tracking.admin import TrackedItemAdmin

    formats = TrackedItemAdmin(TrackedItem, None).get_export_formats()
    xlsx = next(i for i, f in enumerate(formats) if issubclass(f, XLSX))
    ids = [str(pk) for pk in TrackedItem.objects.filter(state="open").values_list("pk", flat=True)]
    response = login(sysadmin).post(
        reverse("admin:tracking_trackeditem_export"),
        {"format": xlsx, "resource": 0, "export_items": ids,
         **{f"trackeditemresource_{f}": "on" for f in ("case_no", "subject", "age")}},
    )  # fmt: skip
    assert response.status_code == 200, response.content.decode()[:3000]
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0] == ("案號", "案由", "已列管會議數")
    assert sorted(r[0] for r in rows[1:]) == ["108-09-01", "108-09-02"]
