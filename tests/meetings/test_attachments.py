"""Attachments: files checked by content, served only to people who may read the meeting, and
links to surveys of signups/ – on the page, in the .docx and in the text export."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import docx
import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from meetings import attachments, rendering, selectors, services
from meetings.models import Attachment, Correction, Motion, ReportItem

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def docx_bytes():
    document = docx.Document()
    document.add_paragraph("活動計畫")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes():
    book = openpyxl.Workbook()
    book.active["A1"] = "學校"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


ODT = zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def survey(db, bureau):
    from signups.models import Survey

    now = timezone.now()
    return Survey.objects.create(
        title="109年度寒假青少年休閒育樂活動開辦調查表", opens_at=now, closes_at=now + timedelta(days=30),
        school_year=108, activity_starts_on=now.date(), activity_ends_on=now.date(),
        created_by=bureau,
    )  # fmt: skip


def upload(name, data):
    return SimpleUploadedFile(name, data)


def item_of(meeting, text):
    return ReportItem.objects.get(meeting=meeting, text__contains=text)


# --- what a file is, by content ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [("計畫.pdf", PDF, "pdf"), ("計畫.docx", docx_bytes(), "docx"), ("名單.xlsx", xlsx_bytes(), "xlsx"),
     ("計畫.odt", ODT, "odt"), ("海報.png", PNG, "png"), ("照片.JPG", JPG, "jpg"),
     ("照片.jpeg", JPG, "jpg")],
)  # fmt: skip
def test_allowed_files_are_recognised_by_their_content(name, data, key):
    assert attachments.identify(name, len(data), io.BytesIO(data)).key == key


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "檔案是空的"),
        ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "檔案太大"),
        ("計畫.pdf", PNG, "內容是PNG 圖片"),  # the name lies about the content
        ("計畫.docx", xlsx_bytes(), "內容是Excel 試算表"),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "不接受這種檔案"),
        ("notes.txt", "純文字".encode(), "不接受這種檔案"),
        ("page.html", b"<script>alert(1)</script>", "不接受這種檔案"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 60, "舊版 Office"),
        ("archive.zip", zip_bytes({"a.txt": "x"}), "不接受這種檔案"),
        ("broken.docx", b"PK\x03\x04garbage", "損毀"),
        ("slides.odt", zip_bytes({"mimetype": "application/vnd.oasis.opendocument.presentation"}),
         "不接受這種檔案"),
    ],
)  # fmt: skip
def test_other_files_are_refused_with_a_reason(name, data, message):
    with pytest.raises(attachments.AttachmentRejected, match=message):
        attachments.identify(name, len(data), io.BytesIO(data))


# --- uploading in the browser ----------------------------------------------------------------------


def test_bureau_attach_a_pdf_to_a_report_item_and_it_appears_everywhere(
    login, bureau, coordinator, draft_meeting, media, django_capture_on_commit_callbacks
):
    item = item_of(draft_meeting, "乙項")
    client = login(bureau)
    response = client.post(
        reverse("meetings:attachment_add", args=[draft_meeting.pk]),
        {"file-file": upload("活動計畫.pdf", PDF), "file-title": "活動計畫書",
         "file-place": f"item:{item.pk}"},
    )  # fmt: skip
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.report_item, attachment.title, attachment.content_type, attachment.size) == (
        item, "活動計畫書", "application/pdf", len(PDF),
    )  # fmt: skip
    assert attachment.original_name == "活動計畫.pdf"
    stored = media / attachment.file.name
    assert stored.read_bytes() == PDF and "活動計畫" not in attachment.file.name  # a random name
    url = reverse("meetings:attachment", args=[draft_meeting.pk, attachment.pk])

    html = client.get(draft_meeting.get_absolute_url()).content.decode()
    item_html = html.split(f'id="item-{item.pk}"')[1].split("</li>")[0]
    assert f'<a href="{url}">活動計畫書</a>' in item_html and "PDF，1 KB" in item_html

    text = rendering.as_text(selectors.meeting_document(draft_meeting)).splitlines()
    at = text.index("  (二)乙項。")
    assert text[at + 1].startswith("  附件：活動計畫書（http") and text[at + 1].endswith(f"{url}）")

    body = rendering.as_docx(selectors.meeting_document(draft_meeting))
    paragraphs = [p.text for p in docx.Document(io.BytesIO(body)).paragraphs]
    assert any(p.startswith("附件：活動計畫書（") and p.endswith(f"{url}）") for p in paragraphs)


def test_a_file_with_a_false_name_is_refused_and_nothing_is_stored(login, bureau, draft_meeting,
                                                                   media):  # fmt: skip
    response = login(bureau).post(
        reverse("meetings:attachment_add", args=[draft_meeting.pk]),
        {"file-file": upload("名單.pdf", PNG), "file-place": "meeting"},
        follow=True,
    )
    assert "內容是PNG 圖片" in response.content.decode()
    assert Attachment.objects.count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_files_are_served_only_to_people_who_may_read_the_meeting(
    client, login, bureau, coordinator, draft_meeting
):
    attachment = services.attachment_add(
        meeting=draft_meeting, user=bureau, upload=upload("海報.png", PNG)
    )
    url = reverse("meetings:attachment", args=[draft_meeting.pk, attachment.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert login(coordinator).get(url).status_code == 403  # a draft's file
    staff = login(bureau).get(url)
    assert staff.status_code == 200 and b"".join(staff.streaming_content) == PNG
    services.meeting_publish(meeting=draft_meeting, user=bureau)
    response = login(coordinator).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == PNG
    # the attachment is reached only through its own meeting
    other = services.meeting_create(user=bureau, title="另一次會議", held_on=draft_meeting.held_on)
    services.meeting_publish(meeting=other, user=bureau)
    wrong = reverse("meetings:attachment", args=[other.pk, attachment.pk])
    assert login(coordinator).get(wrong).status_code == 404


def test_office_files_download_under_their_original_name(login, bureau, coordinator, draft_meeting):
    attachment = services.attachment_add(
        meeting=draft_meeting, user=bureau, upload=upload("經費概算表.xlsx", xlsx_bytes())
    )
    services.meeting_publish(meeting=draft_meeting, user=bureau)
    response = login(coordinator).get(
        reverse("meetings:attachment", args=[draft_meeting.pk, attachment.pk])
    )
    assert response["Content-Disposition"].startswith("attachment")
    assert "filename*=utf-8''%E7%B6%93" in response["Content-Disposition"]


def test_coordinators_cannot_attach_or_remove(login, coordinator, bureau, draft_meeting):
    services.meeting_publish(meeting=draft_meeting, user=bureau)
    client = login(coordinator)
    response = client.post(
        reverse("meetings:attachment_add", args=[draft_meeting.pk]),
        {"file-file": upload("x.pdf", PDF), "file-place": "meeting", "file-reason": "x"},
    )
    assert response.status_code == 403 and Attachment.objects.count() == 0


# --- survey links ------------------------------------------------------------------------------


def test_bureau_link_a_survey_to_a_motion_picked_from_a_list(
    login, bureau, coordinator, draft_meeting, survey
):
    motion = Motion.objects.get(meeting=draft_meeting, subject="乙案。")
    client = login(bureau)
    html = client.get(reverse("meetings:edit", args=[draft_meeting.pk])).content.decode()
    assert f'<option value="{survey.pk}">{survey.title}</option>' in html
    assert f'<option value="motion:{motion.pk}">' in html
    client.post(
        reverse("meetings:attachment_link", args=[draft_meeting.pk]),
        {"kind": "survey", "survey-survey": survey.pk, "survey-place": f"motion:{motion.pk}"},
    )
    attachment = Attachment.objects.get()
    assert (attachment.linked, attachment.motion, attachment.title, attachment.file.name) == (
        survey, motion, survey.title, "",
    )  # fmt: skip
    services.meeting_publish(meeting=draft_meeting, user=bureau)
    html = login(coordinator).get(draft_meeting.get_absolute_url()).content.decode()
    motion_html = html.split(f'id="motion-{motion.pk}"')[1].split("</div>")[0]
    assert f'<a href="{survey.get_absolute_url()}">{survey.title}</a>' in motion_html
    assert "線上調查表" in motion_html
    text = rendering.as_text(selectors.meeting_document(draft_meeting))
    assert f"決議：再議。\n附件：{survey.title}（" in text
    assert f"{survey.get_absolute_url()}）" in text


def test_meeting_wide_attachments_are_numbered_after_the_adjournment(bureau, draft_meeting, survey):
    services.attachment_add(meeting=draft_meeting, user=bureau, upload=upload("簽到表.pdf", PDF))
    services.attachment_add(meeting=draft_meeting, user=bureau, linked=survey, title="調查表")
    lines = rendering.as_text(selectors.meeting_document(draft_meeting)).splitlines()
    at = lines.index("拾壹、散會")
    assert [line.split("（")[0] for line in lines[at + 1 :] if line] == [
        "附件一：簽到表", "附件二：調查表"
    ]  # fmt: skip


def test_a_file_and_a_survey_at_once_is_refused(bureau, draft_meeting, survey):
    with pytest.raises(services.MeetingError, match="擇一"):
        services.attachment_add(
            meeting=draft_meeting, user=bureau, upload=upload("a.pdf", PDF), linked=survey
        )
    with pytest.raises(services.MeetingError, match="擇一"):
        services.attachment_add(meeting=draft_meeting, user=bureau)


def test_deleting_a_survey_removes_its_links_from_the_minutes(bureau, draft_meeting, survey):
    services.attachment_add(meeting=draft_meeting, user=bureau, linked=survey)
    survey.delete()
    assert not Attachment.objects.exists()


def test_only_a_registered_kind_of_row_can_be_linked(bureau, draft_meeting, xindian_school):
    with pytest.raises(services.MeetingError, match="不能連結"):
        services.attachment_add(meeting=draft_meeting, user=bureau, linked=xindian_school)
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("kind", ["", "vote", "survey\x7f", "s" * 500])
def test_a_link_of_an_unknown_kind_is_refused_with_a_message(
    kind, login, bureau, draft_meeting, survey
):
    response = login(bureau).post(
        reverse("meetings:attachment_link", args=[draft_meeting.pk]),
        {"kind": kind, "survey-survey": survey.pk, "survey-place": "meeting"},
        follow=True,
    )
    assert response.status_code == 200 and "不明的連結種類" in response.content.decode()
    assert not Attachment.objects.exists()


def test_an_item_of_another_meeting_is_refused(bureau, draft_meeting, seed_meeting):
    foreign = ReportItem.objects.filter(meeting=seed_meeting).first()
    with pytest.raises(services.MeetingError, match="不屬於"):
        services.attachment_add(
            meeting=draft_meeting, user=bureau, upload=upload("a.pdf", PDF), report_item=foreign
        )
    assert Attachment.objects.count() == 0


# --- published minutes: recorded corrections ---------------------------------------------------------


def test_on_published_minutes_attaching_and_removing_are_recorded_corrections(
    login, bureau, seed_meeting, media, django_capture_on_commit_callbacks
):
    client = login(bureau)
    add = reverse("meetings:attachment_add", args=[seed_meeting.pk])
    client.post(add, {"file-file": upload("簽到表.pdf", PDF), "file-place": "meeting"})
    assert Attachment.objects.count() == 0  # no reason given
    client.post(
        add,
        {
            "file-file": upload("簽到表.pdf", PDF),
            "file-place": "meeting",
            "file-reason": "補附簽到表",
        },
    )
    attachment = Attachment.objects.get()
    correction = Correction.objects.get()
    assert (correction.target, correction.new_value, correction.reason) == (
        "會議紀錄的附件", "簽到表", "補附簽到表",
    )  # fmt: skip
    stored = media / attachment.file.name
    delete = reverse("meetings:attachment_delete", args=[seed_meeting.pk, attachment.pk])
    client.post(delete)
    assert Attachment.objects.filter(pk=attachment.pk).exists()  # again, a reason is required
    with django_capture_on_commit_callbacks(execute=True):
        client.post(delete, {"reason": "附錯檔案"})
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert Correction.objects.filter(old_value="簽到表", reason="附錯檔案").exists()
    assert not stored.exists()  # the file goes with the row


def test_the_edit_page_lists_attachments_with_accessible_forms(
    login, bureau, draft_meeting, survey
):
    services.attachment_add(meeting=draft_meeting, user=bureau, linked=survey)
    html = login(bureau).get(reverse("meetings:edit", args=[draft_meeting.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in html and 'accept=".pdf,.docx,.xlsx,.odt,' in html
    assert (
        '<label for="id_file-file">檔案' in html and '<label for="id_survey-survey">調查表' in html
    )
    assert f'移除<span class="visually-hidden">附件「{survey.title}」</span>' in html


def test_search_finds_an_attachment_by_its_title_and_links_to_it(
    login, coordinator, bureau, draft_meeting, survey
):
    item = item_of(draft_meeting, "丙項")
    attachment = services.attachment_add(
        meeting=draft_meeting, user=bureau, linked=survey, report_item=item
    )
    services.meeting_publish(meeting=draft_meeting, user=bureau)
    html = login(coordinator).get(reverse("meetings:search"), {"q": "休閒育樂"}).content.decode()
    assert f"{draft_meeting.get_absolute_url()}#attachment-{attachment.pk}" in html
    assert "<mark>休閒育樂</mark>" in html and "(三) 附件" in html


def test_the_size_limit_holds_for_files_streamed_to_disk(login, bureau, draft_meeting, media):
    """Above 6 MB Django spools an upload to a temporary file; the checks read it the same way."""
    client = login(bureau)
    url = reverse("meetings:attachment_add", args=[draft_meeting.pk])
    seven = PDF + b"0" * (7 * 1024 * 1024)
    client.post(url, {"file-file": upload("掃描檔.pdf", seven), "file-place": "meeting"})
    assert Attachment.objects.get().size == len(seven)
    eleven = PDF + b"0" * (11 * 1024 * 1024)
    response = client.post(
        url, {"file-file": upload("太大.pdf", eleven), "file-place": "meeting"}, follow=True
    )
    assert "檔案太大（11.0 MB）；附件最多 10 MB" in response.content.decode()
    assert Attachment.objects.count() == 1


def test_a_missing_file_is_named_in_the_message(login, bureau, draft_meeting):
    response = login(bureau).post(
        reverse("meetings:attachment_add", args=[draft_meeting.pk]),
        {"file-place": "meeting"},
        follow=True,
    )
    assert "檔案：這個欄位是必須的。" in response.content.decode()
    assert Attachment.objects.count() == 0
