"""Writes for the minutes. Every function takes keyword arguments and runs in one transaction;
drafts are edited freely, published minutes only through recorded corrections."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from portal import audit, fragments, mail
from portal.models import Division, Role

from . import attachments as attachment_types
from . import hooks, minutes_cache, rendering, selectors
from .models import (
    Attachment,
    Correction,
    Meeting,
    MeetingSeries,
    MinutesNotice,
    Motion,
    ReportItem,
    SearchEntry,
)

if TYPE_CHECKING:
    from . import importer

log = logging.getLogger("meetings")

SERIES_NAME = "九大分區資訊組長聯席會議"
SERIES_ORGANISER = "新北市九大分區資訊組長專業社群召集學校"

HEADER_FIELDS = {
    "title": "會議名稱",
    "held_on": "會議日期",
    "start_time": "開始時間",
    "adjourned_time": "散會時間",
    "place": "會議地點",
    "chair": "主持人",
    "recorder": "紀錄",
    "attendance_note": "出席人員",
    "chair_remarks": "主席致詞",
    "announced": "已公告",
}


class MeetingError(ValueError):
    """A write the rules refuse; the message is Chinese and meant for the user."""


class MeetingImportError(MeetingError):
    """The parsed minutes cannot be saved; `problems` lists every reason (line numbers included)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


def default_series():
    series, _ = MeetingSeries.objects.get_or_create(
        name=SERIES_NAME, defaults={"organiser": SERIES_ORGANISER}
    )
    return series


# --- import ----------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    result: importer.ParseResult
    divisions: dict  # name → Division


IMPORT_HEADER_FIELDS = ("title", "held_on", "start_time", "place", "chair", "recorder")


def _header_fixed(result, header):
    """The bureau's corrections of the header fields (made on the preview) over what was read."""
    for name, value in (header or {}).items():
        if name not in IMPORT_HEADER_FIELDS:
            continue
        if name == "held_on" and isinstance(value, str):
            value = date.fromisoformat(value) if value else None
        elif name == "start_time" and isinstance(value, str):
            value = time.fromisoformat(value) if value else None
        setattr(result, name, value or None)
    return result


def _parsed(text, header, moves, divisions):
    from . import importer  # the minutes' parser: only the import pages and jobs need it

    result = importer.parse(text, division_names=tuple(divisions) or importer.DEFAULT_DIVISIONS)
    _header_fixed(result, header)
    return importer.moves_apply(result, moves)


def meeting_import_check(*, text, header=None, moves=None):
    """Parse and validate without saving: the preview shows this. Raises ImportRejected (not
    minutes at all) or MeetingImportError (minutes, but something required is missing).
    `header` holds the fields corrected on the preview (ISO dates and times), `moves` the
    paragraphs moved there ([paragraph, target], importer/moves.py), replayed in order."""
    divisions = {d.name: d for d in Division.objects.all()}
    result = _parsed(text, header, moves, divisions)
    problems = []
    if not result.title:
        problems.append("缺少會議名稱（例如「108 年度 9 月份聯席會議紀錄」）。")
    elif len(result.title) > Meeting._meta.get_field("title").max_length:
        problems.append("會議名稱太長，請確認第一行之後是否為會議名稱。")
    if not result.held_on:
        problems.append("缺少會議日期（「會議時間：108 年 9 月 10 日…」）。")
    for division in result.divisions:
        if division.name not in divisions:
            known = "、".join(divisions) or "（尚未建立任何組別）"
            name = division.name or "（未寫組別）"
            problems.append(
                f"{result.where(division.line)}：業務組別「{name}」不存在；已有的組別：{known}。"
            )
    for name, limit in (("place", 200), ("chair", 60), ("recorder", 60)):
        value = getattr(result, name) or ""
        if len(value) > limit:
            problems.append(f"「{HEADER_FIELDS[name]}」超過 {limit} 字，請確認內容。")
    if (result.attendance_note or "") and len(result.attendance_note) > 200:
        result.notes.setdefault("attendance", []).insert(0, result.attendance_note)
        result.attendance_note = ""
    if result.title and result.held_on:
        duplicate = Meeting.objects.filter(held_on=result.held_on, title=result.title).first()
        if duplicate:
            problems.append(
                f"已有同一天、同名稱的會議「{duplicate.title}」（編號 {duplicate.pk}），不重複匯入。"
            )
    if problems:
        raise MeetingImportError(problems)
    return ImportPlan(result, divisions)


def meeting_import_preview(*, text, header=None, moves=None):
    """What the import preview shows, as plain data (it is stored on a background job): the
    parse result (`importer.ParseResult.as_json()` plus counts) and the problems that would
    stop the save – empty when it can be saved. Saves nothing."""
    from . import importer

    problems = []
    try:
        result = meeting_import_check(text=text, header=header, moves=moves).result
    except importer.ImportRejected as exc:
        return {"ok": False, "problems": [str(exc)], "result": None}
    except MeetingImportError as exc:
        problems = exc.problems
        divisions = {d.name: d for d in Division.objects.all()}
        result = _parsed(text, header, moves, divisions)  # parsed once already: again
    targets = importer.move_targets(result)
    blocks, whole = importer.preview_blocks(result)
    summary = {
        **result.as_json(),
        "division_count": len(result.divisions),
        "item_count": result.item_count,
        "document": blocks,  # the minutes as they will look, warnings beside their lines
        "document_warnings": whole,
        "move_targets": targets,  # where the preview's 移到… lists let a paragraph go
    }
    return {"ok": not problems, "problems": problems, "result": summary}


@transaction.atomic
def meeting_import(*, text, user, publish=False, series=None, header=None, moves=None):
    """Parse, validate everything, then save the meeting, its report tree, its motions and the
    tracked-item tables in one transaction. Returns the meeting (its `import_warnings` say
    what the importer could not place). `header`, `moves`: corrections made on the preview."""
    plan = meeting_import_check(text=text, header=header, moves=moves)
    r = plan.result
    meeting = Meeting.objects.create(
        series=series or default_series(),
        title=r.title,
        held_on=r.held_on,
        start_time=r.start_time,
        adjourned_time=r.adjourned_time,
        place=r.place or "",
        chair=r.chair or "",
        recorder=r.recorder or "",
        attendance_note=r.attendance_note or "",
        chair_remarks=r.chair_remarks or "",
        created_by=user,
        source_text=text,
        section_notes={key: lines for key, lines in r.notes.items() if lines},
        import_warnings=[
            {"line": w.line, "where": r.where(w.line), "message": w.message} for w in r.warnings
        ],
    )
    _save_report_tree(meeting, r.divisions, plan.divisions)
    Motion.objects.bulk_create(
        Motion(
            meeting=meeting,
            kind=m.kind,
            position=i,
            subject=m.subject,
            explanation=m.explanation,
            resolution=m.resolution,
            proposer=m.proposer[:80],
        )
        for i, m in enumerate(r.motions, start=1)
    )
    # the apps on top read their parts (tracking/: the tables); a refusal rolls it all back
    try:
        hooks.import_steps_run(meeting=meeting, result=r, user=user)
    except hooks.ImportRefused as exc:
        raise MeetingImportError(exc.errors) from exc
    hooks.meeting_saved(meeting=meeting, user=user)
    audit.record(
        "meetings.imported",
        actor=user,
        target=meeting,
        meeting_id=meeting.pk,
        items=r.item_count,
        motions=len(r.motions),
        warnings=len(r.warnings),
    )
    if publish:
        meeting = meeting_publish(meeting=meeting, user=user)
    else:
        search_index_rebuild(meeting=meeting)
    return meeting


def _save_report_tree(meeting, divisions, known):
    """Save level by level with bulk_create (a parent gets its id before its children)."""
    level = []
    for division in divisions:
        for position, item in enumerate(division.items, start=1):
            level.append((item, None, known[division.name], position))
    while level:
        rows = [
            ReportItem(meeting=meeting, division=div, parent=parent, position=pos, text=item.text)
            for item, parent, div, pos in level
        ]
        ReportItem.objects.bulk_create(rows)
        level = [
            (child, row, row.division, position)
            for (item, _p, _d, _pos), row in zip(level, rows, strict=True)
            for position, child in enumerate(item.children, start=1)
        ]


# --- writing and publishing --------------------------------------------------------------------


@transaction.atomic
def meeting_create(*, user, title, held_on, series=None, **fields):
    """A new draft, written in the browser."""
    meeting = Meeting.objects.create(
        series=series or default_series(), title=title, held_on=held_on, created_by=user, **fields
    )
    hooks.meeting_saved(meeting=meeting, user=user)
    audit.record("meetings.created", actor=user, target=meeting, meeting_id=meeting.pk)
    search_index_rebuild(meeting=meeting)
    return meeting


@transaction.atomic
def meeting_publish(*, meeting, user):
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.is_published:
        raise MeetingError("這份會議紀錄已經發布。")
    meeting.status = Meeting.Status.PUBLISHED
    meeting.published_at = timezone.now()
    meeting.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(
        "meetings.published", actor=user, target=meeting, meeting_id=meeting.pk,
        old="draft", new="published",
    )  # fmt: skip
    search_index_rebuild(meeting=meeting)
    from .tasks import send_publication_notices

    meeting_id = meeting.pk
    transaction.on_commit(lambda: send_publication_notices.delay(meeting_id))
    return meeting


def _correct(meeting, user, reason, target, field, old, new):
    """On published minutes, record the change (who, when, old → new, why)."""
    if not meeting.is_published:
        return
    if not (reason or "").strip():
        raise MeetingError("已發布的會議紀錄只能以「更正」修改，請填寫更正原因。")
    Correction.objects.create(
        meeting=meeting,
        target=target,
        field=field,
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
        reason=reason.strip()[:300],
        corrected_by=user,
    )


def _editable_structure(meeting):
    if meeting.is_published:
        raise MeetingError("已發布的會議紀錄不能增刪或移動項目，只能更正文字。")


@transaction.atomic
def meeting_update(*, meeting, user, changes, reason=""):
    """Change header fields. On published minutes each changed field becomes a Correction."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    changed = []
    for name, value in changes.items():
        if name not in HEADER_FIELDS:
            raise MeetingError(f"不能修改欄位 {name}。")
        old = getattr(meeting, name)
        if old == value:
            continue
        _correct(meeting, user, reason, HEADER_FIELDS[name], name, old, value)
        setattr(meeting, name, value)
        changed.append(name)
    if changed:
        meeting.save(update_fields=[*changed, "updated_at"])
        audit.record("meetings.updated", actor=user, target=meeting, fields=changed)
        hooks.meeting_saved(meeting=meeting, user=user)
        search_index_rebuild(meeting=meeting)
    return meeting


def _siblings(item):
    return ReportItem.objects.filter(
        meeting_id=item.meeting_id, division_id=item.division_id, parent_id=item.parent_id
    ).order_by("position", "id")


def _renumber(queryset):
    """Positions 1..n in the current order (a move never leaves gaps or ties)."""
    rows = list(queryset)
    for position, row in enumerate(rows, start=1):
        row.position = position
    if rows:
        type(rows[0]).objects.bulk_update(rows, ["position"])
    return rows


@transaction.atomic
def report_item_add(*, meeting, user, division, text, parent=None):
    _editable_structure(meeting)
    text = (text or "").strip()
    if not text:
        raise MeetingError("請輸入項目內容。")
    if parent is not None and (
        parent.meeting_id != meeting.pk or parent.division_id != division.pk
    ):
        raise MeetingError("上層項目不屬於這份紀錄的這個組別。")
    last = ReportItem.objects.filter(meeting=meeting, division=division, parent=parent).aggregate(
        m=Max("position")
    )["m"]
    item = ReportItem.objects.create(
        meeting=meeting, division=division, parent=parent, position=(last or 0) + 1, text=text
    )
    search_index_rebuild(meeting=meeting)
    return item


@transaction.atomic
def report_item_update(*, item, user, text, reason=""):
    text = (text or "").strip()
    if not text:
        raise MeetingError("項目內容不可空白；要刪除請用「刪除」。")
    meeting = Meeting.objects.select_for_update().get(pk=item.meeting_id)
    if item.text != text:
        _correct(meeting, user, reason, "業務報告項目", f"report_item:{item.pk}", item.text, text)
        item.text = text
        item.save(update_fields=["text"])
        search_index_rebuild(meeting=meeting)
    return item


@transaction.atomic
def report_item_move(*, item, user, direction):
    """up / down among its siblings; indent (become the last child of the item above);
    outdent (become the next sibling of its former parent, taking its own children along; the
    items after it stay under the old parent, renumbered). Numbering follows by itself."""
    meeting = Meeting.objects.select_for_update().get(pk=item.meeting_id)
    _editable_structure(meeting)
    item = ReportItem.objects.get(pk=item.pk)
    siblings = _renumber(_siblings(item))
    index = next(i for i, s in enumerate(siblings) if s.pk == item.pk)
    if direction in ("up", "down"):
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(siblings):
            raise MeetingError("已經在最前面。" if direction == "up" else "已經在最後面。")
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, row in enumerate(siblings, start=1):
            row.position = position
        ReportItem.objects.bulk_update(siblings, ["position"])
    elif direction == "indent":
        if index == 0:
            raise MeetingError("第一個項目沒有可以歸屬的上一個項目，無法降一層。")
        new_parent = siblings[index - 1]
        last = new_parent.children.aggregate(m=Max("position"))["m"]
        item.parent, item.position = new_parent, (last or 0) + 1
        item.save(update_fields=["parent", "position"])
        _renumber(_siblings(new_parent))  # the siblings it left
    elif direction == "outdent":
        if item.parent_id is None:
            raise MeetingError("已經是最上層的項目。")
        parent = item.parent
        after = [s for s in _siblings(parent) if s.pk != item.pk]
        at = next(i for i, s in enumerate(after) if s.pk == parent.pk) + 1
        item.parent_id = parent.parent_id
        after.insert(at, item)
        for position, row in enumerate(after, start=1):
            row.position = position
        item.save(update_fields=["parent"])
        ReportItem.objects.bulk_update(after, ["position"])
        _renumber(ReportItem.objects.filter(parent_id=parent.pk).order_by("position", "id"))
    else:
        raise MeetingError("不明的移動方向。")
    search_index_rebuild(meeting=meeting)
    return item


@transaction.atomic
def report_item_delete(*, item, user):
    meeting = Meeting.objects.select_for_update().get(pk=item.meeting_id)
    _editable_structure(meeting)
    parent_id, division_id = item.parent_id, item.division_id
    item.delete()  # its children go with it (CASCADE), as a deleted heading takes its list
    _renumber(
        ReportItem.objects.filter(
            meeting=meeting, division_id=division_id, parent_id=parent_id
        ).order_by("position", "id")
    )
    search_index_rebuild(meeting=meeting)


MOTION_FIELDS = {
    "subject": "案由",
    "explanation": "說明",
    "resolution": "決議",
    "proposer": "提案單位",
}


@transaction.atomic
def motion_add(*, meeting, user, kind, subject, explanation="", resolution="", proposer=""):
    _editable_structure(meeting)
    if kind not in Motion.Kind.values:
        raise MeetingError("不明的提案類別。")
    if not (subject or "").strip():
        raise MeetingError("請輸入案由。")
    last = Motion.objects.filter(meeting=meeting, kind=kind).aggregate(m=Max("position"))["m"]
    motion = Motion.objects.create(
        meeting=meeting, kind=kind, position=(last or 0) + 1, subject=subject.strip(),
        explanation=explanation.strip(), resolution=resolution.strip(), proposer=proposer.strip(),
    )  # fmt: skip
    hooks.meeting_saved(meeting=meeting, user=user)
    search_index_rebuild(meeting=meeting)
    return motion


@transaction.atomic
def motion_update(*, motion, user, changes, reason=""):
    meeting = Meeting.objects.select_for_update().get(pk=motion.meeting_id)
    changed = []
    for name, value in changes.items():
        if name not in MOTION_FIELDS:
            raise MeetingError(f"不能修改欄位 {name}。")
        # a browser posts a textarea's lines with CRLF: store them as the importer reads them
        value = (value or "").replace("\r\n", "\n").strip()
        if name == "subject" and not value:
            raise MeetingError("案由不可空白。")
        old = getattr(motion, name)
        if old == value:
            continue
        target = f"{motion.get_kind_display()}（{motion.subject[:20]}）的{MOTION_FIELDS[name]}"
        _correct(meeting, user, reason, target, f"motion:{motion.pk}:{name}", old, value)
        setattr(motion, name, value)
        changed.append(name)
    if changed:
        motion.save(update_fields=changed)
        hooks.meeting_saved(meeting=meeting, user=user)
        search_index_rebuild(meeting=meeting)
    return motion


@transaction.atomic
def motion_move(*, motion, user, direction):
    meeting = Meeting.objects.select_for_update().get(pk=motion.meeting_id)
    _editable_structure(meeting)
    rows = list(Motion.objects.filter(meeting=meeting, kind=motion.kind).order_by("position", "id"))
    index = next(i for i, m in enumerate(rows) if m.pk == motion.pk)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(rows):
        raise MeetingError("無法再移動。")
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        row.position = position
    Motion.objects.bulk_update(rows, ["position"])
    search_index_rebuild(meeting=meeting)


@transaction.atomic
def motion_delete(*, motion, user):
    meeting = Meeting.objects.select_for_update().get(pk=motion.meeting_id)
    _editable_structure(meeting)
    motion.delete()
    hooks.meeting_saved(meeting=meeting, user=user)
    search_index_rebuild(meeting=meeting)


# --- attendance and attachments ----------------------------------------------------------------


def _school_list(schools):
    return "、".join(s.name for s in sorted(schools, key=lambda s: (s.district.position, s.code)))


@transaction.atomic
def meeting_attendance_set(*, meeting, user, schools, reason=""):
    """Which schools attended (出席學校). Shown in the minutes instead of the attendance note
    when any is set; on published minutes the change is a Correction (old list → new list)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    before = list(meeting.attendees.select_related("district"))
    schools = list(schools)
    if {s.pk for s in before} == {s.pk for s in schools}:
        return meeting
    _correct(
        meeting, user, reason, "出席學校", "attendees", _school_list(before), _school_list(schools)
    )
    meeting.attendees.set(schools)
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=timezone.now())
    audit.record(
        "meetings.attendance_set", actor=user, target=meeting, meeting_id=meeting.pk,
        old=sorted(s.pk for s in before), new=sorted(s.pk for s in schools),
    )  # fmt: skip
    search_index_rebuild(meeting=meeting)
    return meeting


def _attachment_place(meeting, report_item, motion):
    if report_item is not None and report_item.meeting_id != meeting.pk:
        raise MeetingError("這個業務報告項目不屬於這份會議紀錄。")
    if motion is not None and motion.meeting_id != meeting.pk:
        raise MeetingError("這個提案不屬於這份會議紀錄。")
    if report_item is not None and motion is not None:
        raise MeetingError("附件只能附在一個地方：整份紀錄、一個業務報告項目或一個提案。")


@transaction.atomic
def attachment_add(
    *, meeting, user, title="", upload=None, linked=None, report_item=None, motion=None,
    reason="",
):  # fmt: skip
    """Attach an uploaded file (checked by content: attachments.identify) or a link to a row of
    a registered hooks.LinkKind (a survey of signups/) to the meeting, one report item or one
    motion. On published minutes this is a recorded correction (a reason is required)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _attachment_place(meeting, report_item, motion)
    if (upload is None) == (linked is None):
        raise MeetingError("請選擇要上傳的檔案，或要連結的項目（擇一）。")
    if linked is not None and hooks.link_kind_of(type(linked)) is None:
        raise MeetingError("這種項目不能連結到會議紀錄。")
    title = (title or "").strip()
    fields = {}
    if upload is not None:
        try:
            kind = attachment_types.identify(upload.name, upload.size, upload)
        except attachment_types.AttachmentRejected as exc:
            raise MeetingError(str(exc)) from None
        original = upload.name.replace("\\", "/").rsplit("/", 1)[-1][:200]
        title = title or original.rsplit(".", 1)[0]
        fields = {"file": upload, "original_name": original, "content_type": kind.content_type,
                  "size": upload.size}  # fmt: skip
    else:
        title = title or getattr(linked, "title", "") or str(linked)
        fields = {"linked": linked}
    title = title[:200]
    where = (
        f"業務報告項目（{report_item.text[:20]}）" if report_item
        else f"{motion.get_kind_display()}（{motion.subject[:20]}）" if motion
        else "會議紀錄"
    )  # fmt: skip
    _correct(meeting, user, reason, f"{where}的附件", "attachment", "", title)
    last = Attachment.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"]
    attachment = Attachment(
        meeting=meeting, report_item=report_item, motion=motion, title=title,
        position=(last or 0) + 1, added_by=user, **fields,
    )  # fmt: skip
    attachment.save()  # stores the file under a random name (models.attachment_path)
    try:
        audit.record(
            "meetings.attachment_added", actor=user, target=meeting, meeting_id=meeting.pk,
            attachment_id=attachment.pk, kind=attachment.kind, title=title,
        )  # fmt: skip
        search_index_rebuild(meeting=meeting)
    except Exception:  # the row rolls back; do not leave its file behind
        if attachment.file:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, attachment, user, reason=""):
    meeting = Meeting.objects.select_for_update().get(pk=attachment.meeting_id)
    _correct(meeting, user, reason, "附件", "attachment", attachment.title, "")
    name = attachment.file.name if attachment.file else ""
    storage = attachment.file.storage if attachment.file else None
    audit.record(
        "meetings.attachment_removed", actor=user, target=meeting, meeting_id=meeting.pk,
        attachment_id=attachment.pk, title=attachment.title,
    )  # fmt: skip
    attachment.delete()
    if name:  # only once the row is really gone
        transaction.on_commit(lambda: storage.delete(name))
    search_index_rebuild(meeting=meeting)


# --- search index and notices --------------------------------------------------------------------


def search_index_rebuild(*, meeting):
    """Rewrite the meeting's SearchEntry rows from its rendered document (so a hit's label is
    the number a reader sees on the page). Every change to a meeting ends here, so this is also
    where its cached rendering is dropped."""
    minutes_cache.minutes_changed(meeting)
    document = selectors.meeting_document(meeting)
    rows = []

    def add(anchor, label, text):
        if text and text.strip():
            rows.append(
                SearchEntry(
                    meeting=meeting, held_on=meeting.held_on, published=meeting.is_published,
                    anchor=anchor, label=label[:120], text=text, position=len(rows),
                )
            )  # fmt: skip

    add("minutes-title", "會議名稱", meeting.title)
    for section in document.sections:
        head = f"{section.number}、{section.heading}"
        add(section.anchor, head, " ".join(filter(None, [section.value, *section.lines])))
        if section.table:
            for row in section.table.rows:
                add(section.anchor, f"{head} 案號 {row[0]}", "　".join(row[1:]))
        path = {}
        for entry in rendering.walk_entries(section.entries):
            path[entry.depth] = entry.label
            trail = " ".join(path[d] for d in range(entry.depth + 1) if d in path)
            if entry.depth:  # a division's name alone is not a finding
                add(entry.anchor, f"{head} {trail}", entry.text)
            for a in entry.attachments:
                add(a.anchor, f"{head} {trail} 附件", a.title)
        for motion in section.motions:
            body = "\n".join(
                filter(
                    None, [motion.subject, motion.explanation, motion.resolution, motion.proposer]
                )
            )
            add(motion.anchor, f"{head} {motion.label}", body)
            for a in motion.attachments:
                add(a.anchor, f"{head} {motion.label} 附件", a.title)
        for kind, block in section.notes:
            if kind == "p":
                add(section.anchor, head, block)
            else:
                add(
                    section.anchor,
                    head,
                    "\n".join("\t".join(r) for r in [block.headers, *block.rows]),
                )
    for a in document.attachments:
        add(a.anchor, a.label, a.title)
    SearchEntry.objects.filter(meeting=meeting).delete()
    SearchEntry.objects.bulk_create(rows)
    fragments.changed(selectors.SEARCH_COUNTER)
    return len(rows)


def notice_recipients(meeting):
    """Coordinators and district conveners who opted in (User.notify_on_minutes) and have an
    address – once each, however many memberships they hold."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            notify_on_minutes=True,
            memberships__role__in=[Role.COORDINATOR, Role.CONVENER],
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def publication_notices_send(*, meeting_id):
    """E-mail each opted-in coordinator and convener once. A notice row is claimed by a conditional UPDATE
    before sending, so two workers (or a redelivered task) never send the same notice twice;
    a failed send releases the claim and re-raises so the task retries."""
    meeting = Meeting.objects.select_related("series").get(pk=meeting_id)
    if not meeting.is_published:
        return 0
    sent = 0
    for user in notice_recipients(meeting):
        notice, _ = MinutesNotice.objects.get_or_create(
            meeting=meeting, user=user, defaults={"email": user.email}
        )
        claimed = MinutesNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        if claimed != 1:
            continue
        try:
            mail.send_email(
                "meetings_published",
                {"meeting": meeting, "user": user, "path": meeting.get_absolute_url()},
                [notice.email],
            )
        except Exception:
            MinutesNotice.objects.filter(pk=notice.pk).update(sent_at=None)
            raise
        sent += 1
    log.info("minutes %s: %s notices sent", meeting_id, sent)
    return sent
