"""The organisation from the bureau's own lists: districts and schools from the school list, and
invitations from a list of people. Every row is judged first; only a file without an error is
saved, in one transaction. Importing the same file again changes nothing (schools are matched by
學校代碼, invitations still waiting are not sent twice)."""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from . import audit
from .models import District, Division, Invitation, Membership, Role, School, SchoolLevel
from .tables import TableError, read_table

SCHOOL_COLUMNS = {
    "學校代碼": ("學校代碼", "代碼"),
    "校名": ("校名", "學校名稱", "學校"),
    "學制": ("學制", "學制別", "類別"),
    "分區": ("分區", "所屬分區"),
    "電子郵件網域": ("電子郵件網域", "網域", "郵件網域"),
    "召集學校": ("召集學校", "分區召集學校"),
}
SCHOOL_REQUIRED = ("學校代碼", "校名", "學制", "分區")
LEVELS = {"國小": SchoolLevel.ELEMENTARY, "國民小學": SchoolLevel.ELEMENTARY,
          "國中": SchoolLevel.JUNIOR_HIGH, "國民中學": SchoolLevel.JUNIOR_HIGH}  # fmt: skip
YES = {"是", "v", "V", "y", "Y", "yes", "✓", "✔", "○", "◎", "1", "召集學校"}
NO = {"", "否", "n", "N", "no", "0", "-", "－"}
_CODE = re.compile(r"\d{6}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")

INVITATION_COLUMNS = {
    "電子郵件": ("電子郵件", "email", "Email", "E-mail", "e-mail", "電子信箱", "信箱"),
    "學校代碼": ("學校代碼", "代碼"),
    "分區": ("分區",),
    "組別": ("組別", "業務組別"),
}


class ImportRefused(Exception):
    """The file was not saved; `errors` lists every problem (「第 N 列，欄位「X」：…」)."""

    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def _refuse_unreadable(name, data, columns, required):
    try:
        return read_table(name, data, columns=columns, required=required)
    except TableError as exc:
        raise ImportRefused([str(exc)]) from exc


def school_code(text):
    """A school code as the bureau writes it; Excel drops the leading 0 of 014601 when the
    column is a number, so five digits get it back."""
    text = text.strip()
    return text.zfill(6) if text.isdigit() and len(text) == 5 else text


def district_name(text):
    """「板橋」 and 「板橋分區」 name the same district; it is kept as 「板橋分區」."""
    text = text.strip().replace(" ", "")
    return text if not text or text.endswith("分區") else f"{text}分區"


@dataclass
class SchoolRow:
    number: int
    code: str
    name: str
    level: str
    district: str
    email_domain: str
    convener: bool


@dataclass
class SchoolsImported:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    districts_created: list = field(default_factory=list)
    conveners_set: int = 0
    not_in_file: int = 0  # schools in the portal that the file does not list (kept)
    dry_run: bool = False

    @property
    def changed(self):
        return bool(self.created or self.updated or self.districts_created or self.conveners_set)

    def summary(self):
        head = "試算結果（未儲存）" if self.dry_run else "匯入完成"
        text = (
            f"{head}：新增 {self.created} 所、更新 {self.updated} 所、未變更 {self.unchanged} 所學校；"
            f"新增分區 {len(self.districts_created)} 個"
        )
        if self.districts_created:
            text += f"（{'、'.join(self.districts_created)}）"
        text += f"；設定召集學校 {self.conveners_set} 個分區。"
        if self.not_in_file:
            text += f"另有 {self.not_in_file} 所學校不在檔案中，保留未刪除。"
        return text


def school_rows(name, data):
    """The school list's rows, judged; ImportRefused names every bad cell."""
    rows, errors, first_row_of_code, convener_row_of = [], [], {}, {}

    def bad(row, column, problem):
        errors.append(f"第 {row.number} 列，欄位「{column}」：{problem}")

    for row in _refuse_unreadable(name, data, SCHOOL_COLUMNS, SCHOOL_REQUIRED):
        before = len(errors)
        code = school_code(row.get("學校代碼"))
        if not code:
            bad(row, "學校代碼", "不可空白。")
        elif not _CODE.fullmatch(code):
            bad(row, "學校代碼", f"「{code}」不是 6 位數字的學校代碼。")
        elif code in first_row_of_code:
            bad(row, "學校代碼", f"「{code}」與第 {first_row_of_code[code]} 列重複。")
        else:
            first_row_of_code[code] = row.number
        school_name = row.get("校名")
        if not school_name:
            bad(row, "校名", "不可空白。")
        elif len(school_name) > School._meta.get_field("name").max_length:
            bad(row, "校名", "太長（最多 40 字）。")
        level = LEVELS.get(row.get("學制").replace(" ", ""))
        if level is None:
            bad(row, "學制", f"「{row.get('學制')}」無法辨識，請填「國小」或「國中」。")
        district = district_name(row.get("分區"))
        if not district:
            bad(row, "分區", "不可空白。")
        elif len(district) > District._meta.get_field("name").max_length:
            bad(row, "分區", "太長（最多 20 字）。")
        domain = row.get("電子郵件網域").lower().lstrip("@")
        if domain and not _DOMAIN.fullmatch(domain):
            bad(
                row,
                "電子郵件網域",
                f"「{row.get('電子郵件網域')}」不是網域，例如 xdes.ntpc.edu.tw。",
            )
        flag = row.get("召集學校")
        if flag not in YES and flag not in NO:
            bad(row, "召集學校", f"「{flag}」無法辨識，召集學校請填「是」，其他學校留白。")
        convener = flag in YES
        if convener and district:
            if district in convener_row_of:
                bad(row, "召集學校", f"{district}已由第 {convener_row_of[district]} 列的學校召集。")
            else:
                convener_row_of[district] = row.number
        if len(errors) == before:
            rows.append(SchoolRow(row.number, code, school_name, level, district, domain, convener))
    if not rows and not errors:
        errors.append("檔案中沒有任何學校。")
    if errors:
        raise ImportRefused(errors)
    return rows


def schools_import(*, name, data, actor=None, dry_run=False, request=None):
    """Districts and schools from the bureau's school list; all or nothing. Schools are matched
    by 學校代碼 (created or updated, never duplicated, never deleted)."""
    rows = school_rows(name, data)
    result = SchoolsImported(dry_run=dry_run)
    with transaction.atomic():
        districts = {d.name: d for d in District.objects.select_for_update()}
        position = max((d.position for d in districts.values()), default=0)
        for row in rows:
            if row.district not in districts:
                position += 1
                districts[row.district] = District.objects.create(
                    name=row.district, position=position
                )
                result.districts_created.append(row.district)
        existing = {s.code: s for s in School.objects.select_for_update()}
        conveners = {}
        for row in rows:
            wanted = {"name": row.name, "level": row.level,
                      "district": districts[row.district], "email_domain": row.email_domain}  # fmt: skip
            school = existing.get(row.code)
            if school is None:
                school = School.objects.create(code=row.code, **wanted)
                result.created += 1
            else:
                changed = [f for f, v in wanted.items() if getattr(school, f) != v]
                if changed:
                    for f in changed:
                        setattr(school, f, wanted[f])
                    school.save(update_fields=changed)
                    result.updated += 1
                else:
                    result.unchanged += 1
            if row.convener:
                conveners[row.district] = school
        for district_name_, school in conveners.items():
            district = districts[district_name_]
            if district.convener_school_id != school.pk:
                district.convener_school = school
                district.save(update_fields=["convener_school"])
                result.conveners_set += 1
        listed = {row.code for row in rows}
        result.not_in_file = sum(1 for code in existing if code not in listed)
        if dry_run:
            transaction.set_rollback(True)
        elif result.changed:
            audit.record(
                "portal.schools_imported", request=request, actor=actor, target=name,
                created=result.created, updated=result.updated,
                districts_created=len(result.districts_created),
            )  # fmt: skip
    return result


# --- invitations from a list ---------------------------------------------------------------------
@dataclass
class InvitationRow:
    number: int
    email: str
    role: str
    school: School | None = None
    district: District | None = None
    division: Division | None = None


@dataclass
class InvitationsSent:
    sent: list = field(default_factory=list)
    already_invited: int = 0
    already_member: int = 0

    def summary(self):
        text = f"已寄出 {len(self.sent)} 封邀請"
        skipped = []
        if self.already_invited:
            skipped.append(f"{self.already_invited} 位已有等待中的邀請")
        if self.already_member:
            skipped.append(f"{self.already_member} 位已接受過")
        if skipped:
            text += f"；{'、'.join(skipped)}，未重寄"
        return text + "。"


def invitation_rows(name, data):
    """Rows of (電子郵件 and one of 學校代碼 → 資訊組長, 分區 → 分區代表, 組別 → 教育局人員)."""
    errors, rows, seen = [], [], {}
    schools = {s.code: s for s in School.objects.all()}
    districts = {d.name: d for d in District.objects.all()}
    divisions = {d.name: d for d in Division.objects.all()}
    table = _refuse_unreadable(name, data, INVITATION_COLUMNS, ("電子郵件",))

    def bad(row, column, problem):
        errors.append(f"第 {row.number} 列，欄位「{column}」：{problem}")

    for row in table:
        before = len(errors)
        email = row.get("電子郵件").lower()
        try:
            validate_email(email)
        except ValidationError:
            bad(row, "電子郵件", f"「{row.get('電子郵件')}」不是電子郵件地址。")
        targets = [c for c in ("學校代碼", "分區", "組別") if row.get(c)]
        if len(targets) != 1:
            errors.append(
                f"第 {row.number} 列：「學校代碼」（資訊組長）、「分區」（分區代表）、"
                "「組別」（教育局人員）請填其中一欄。"
            )
            continue
        item = InvitationRow(row.number, email, Role.COORDINATOR)
        if targets == ["學校代碼"]:
            code = school_code(row.get("學校代碼"))
            item.school = schools.get(code)
            if item.school is None:
                bad(row, "學校代碼", f"找不到代碼「{code}」的學校，請先匯入學校名冊。")
        elif targets == ["分區"]:
            item.role, item.district = Role.CONVENER, districts.get(district_name(row.get("分區")))
            if item.district is None:
                bad(row, "分區", f"找不到「{row.get('分區')}」，請填 {'、'.join(districts)} 之一。")
        else:
            item.role, item.division = Role.BUREAU, divisions.get(row.get("組別"))
            if item.division is None:
                bad(row, "組別", f"找不到「{row.get('組別')}」，請填 {'、'.join(divisions)} 之一。")
        key = (email, item.role, item.school, item.district, item.division)
        if len(errors) == before and key in seen:
            errors.append(f"第 {row.number} 列：與第 {seen[key]} 列相同。")
        seen.setdefault(key, row.number)
        if len(errors) == before:
            rows.append(item)
    if not rows and not errors:
        errors.append("檔案中沒有任何人。")
    if errors:
        raise ImportRefused(errors)
    return rows


def invitations_send(*, name, data, invited_by, request=None):
    """One invitation per row, e-mailed after the commit. A row whose person already has a
    waiting invitation for the same role, or has accepted one, is not sent again."""
    from .services import invitation_create

    rows = invitation_rows(name, data)
    result = InvitationsSent()
    with transaction.atomic():
        for row in rows:
            same = Invitation.objects.filter(
                email=row.email, role=row.role, school=row.school, district=row.district,
                division=row.division, revoked_at__isnull=True,
            )  # fmt: skip
            if same.filter(accepted_at__isnull=False).exists():
                result.already_member += 1
                continue
            if any(i.is_usable for i in same):
                result.already_invited += 1
                continue
            result.sent.append(
                invitation_create(
                    email=row.email,
                    role=row.role,
                    school=row.school,
                    district=row.district,
                    division=row.division,
                    invited_by=invited_by,
                    request=request,
                )  # fmt: skip
            )
    return result


def schools_without_coordinator():
    return School.objects.exclude(
        pk__in=Membership.objects.filter(role=Role.COORDINATOR).values("school_id")
    )
