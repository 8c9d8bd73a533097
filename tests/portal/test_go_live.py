"""From an empty database to the city's nine districts, its schools and their coordinators, only
through the public commands and pages an operator uses."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from portal.models import AuditEvent, District, Invitation, Membership, Role, School
from tests import factories

User = get_user_model()

# 新北市教育網路的九大分區 (the names the demo uses too, portal/demo.py)
NINE_DISTRICTS = ["板橋", "三重", "新莊", "文山", "七星", "淡水", "雙和", "三鶯", "瑞芳"]
HEADERS = ["學校代碼", "校名", "學制", "分區", "電子郵件網域", "召集學校"]
ADMIN_PASSWORD = "a long bureau passphrase 115"


def city_schools(count=280):
    """`count` schools over the nine districts, a third of them junior highs; the first school of
    each district convenes it."""
    rows = []
    for i in range(count):
        district = NINE_DISTRICTS[i % 9]
        level = "國中" if i % 3 == 0 else "國小"
        code = f"01{4000 + i:04d}"
        number = i // 9 + 1
        rows.append([code, f"{district}第{number}{level}", level, district,
                     f"s{code}.ntpc.edu.tw", "是" if i < 9 else ""])  # fmt: skip
    return rows


def as_csv(rows, headers=HEADERS):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows, headers=HEADERS):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def snapshot():
    schools = list(School.objects.order_by("code").values_list(
        "code", "name", "level", "district__name", "email_domain"))  # fmt: skip
    districts = list(District.objects.order_by("name").values_list(
        "name", "position", "convener_school__code"))  # fmt: skip
    return schools, districts


@pytest.fixture(autouse=True)
def _after_commit(django_capture_on_commit_callbacks):
    """What a request queues for after its commit (the invitation e-mails) runs when the request
    ends, as it does outside a test transaction: `committed(execute=True)` around the request."""
    global committed
    committed = django_capture_on_commit_callbacks
    yield
    committed = None


committed = None  # pytest-django's django_capture_on_commit_callbacks, during each test


def upload(client, url, name, data, follow=False):
    file = io.BytesIO(data)
    file.name = name
    with committed(execute=True):
        return client.post(url, {"file": file}, follow=follow)


@pytest.mark.django_db
def test_an_operator_goes_from_an_empty_database_to_the_first_coordinator(tmp_path, monkeypatch):
    assert not User.objects.exists() and not School.objects.exists()
    out = io.StringIO()
    monkeypatch.setenv("BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
    call_command(
        "bootstrap", "--username", "it-admin", "--email", "it-admin@ntpc.edu.tw",
        "--full-name", "資訊科管理員", "--password-from-env", "BOOTSTRAP_PASSWORD", stdout=out,
    )  # fmt: skip
    assert "已建立系統管理員 it-admin" in out.getvalue()
    assert "import_schools" in out.getvalue()  # the next steps
    with pytest.raises(CommandError, match="已經設定過"):
        call_command("bootstrap", "--username", "again", "--email", "a@ntpc.edu.tw",
                     "--password-from-env", "BOOTSTRAP_PASSWORD")  # fmt: skip
    assert User.objects.count() == 1

    school_list = tmp_path / "學校名冊.xlsx"
    school_list.write_bytes(as_xlsx(city_schools()))
    out = io.StringIO()
    call_command("import_schools", str(school_list), "--dry-run", stdout=out)
    assert "試算結果（未儲存）：新增 280 所" in out.getvalue()
    assert not School.objects.exists()
    call_command("import_schools", str(school_list), stdout=out)
    assert School.objects.count() == 280
    assert sorted(District.objects.values_list("name", flat=True)) == sorted(
        f"{d}分區" for d in NINE_DISTRICTS
    )
    assert District.objects.filter(convener_school__isnull=False).count() == 9
    assert School.objects.filter(level="junior_high").count() == 94
    before = snapshot()

    out = io.StringIO()
    call_command("import_schools", str(school_list), stdout=out)
    assert "新增 0 所、更新 0 所、未變更 280 所" in out.getvalue()
    assert snapshot() == before
    assert AuditEvent.objects.filter(action="portal.schools_imported").count() == 1

    admin = Client()
    response = admin.post(
        reverse("account_login"), {"login": "it-admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302
    home = admin.get("/").content.decode()
    assert "開站檢查清單" in home and "每所學校都有資訊組長" in home
    people = [[code, f"it@{domain}"] for code, _, _, _, domain, _ in city_schools()]
    response = upload(admin, reverse("invitations"), "邀請名單.csv",
                      as_csv(people, ["學校代碼", "電子郵件"]))  # fmt: skip
    assert response.status_code == 302
    assert len(mail.outbox) == 280
    assert Invitation.objects.filter(role=Role.COORDINATOR).count() == 280
    again = upload(admin, reverse("invitations"), "邀請名單.csv",
                   as_csv(people, ["學校代碼", "電子郵件"]), follow=True)  # fmt: skip
    assert "已寄出 0 封邀請；280 位已有等待中的邀請，未重寄" in again.content.decode()
    assert len(mail.outbox) == 280

    # the coordinator of the first school opens the link in the e-mail and signs up
    first = city_schools()[0]
    message = next(m for m in mail.outbox if m.to == [f"it@{first[4]}"])
    link = re.search(r"https?://[^/\s]+(/invite/\S+/)", message.body).group(1)
    coordinator = Client()
    coordinator.get(link)
    response = coordinator.post(reverse("account_signup"), {
        "username": "banqiao-1", "email": f"it@{first[4]}",
        "password1": factories.PASSWORD, "password2": factories.PASSWORD,
    })  # fmt: skip
    assert response.status_code == 302
    user = User.objects.get(username="banqiao-1")
    assert Membership.objects.filter(
        user=user, role=Role.COORDINATOR, school__code=first[0]
    ).exists()
    listing = admin.get(reverse("invitations") + "?status=accepted").content.decode()
    assert f"it@{first[4]}" in listing and "已接受（1）" in listing


@pytest.mark.django_db
def test_a_bad_school_list_saves_nothing_and_names_each_row(bureau, login):
    rows = city_schools(12)
    rows[1][2] = "高中"  # row 3
    rows[3][0] = rows[2][0]  # row 5 repeats row 4's code
    rows[5][4] = "not a domain"  # row 7
    rows[10][5] = "是"  # row 12: 三重 already convened by row 3
    response = upload(login(bureau), reverse("schools_import"), "名冊.csv", as_csv(rows))
    body = response.content.decode()
    assert response.status_code == 400
    assert "第 3 列，欄位「學制」：「高中」無法辨識" in body
    assert f"第 5 列，欄位「學校代碼」：「{rows[2][0]}」與第 4 列重複" in body
    assert "第 7 列，欄位「電子郵件網域」" in body
    assert "第 12 列，欄位「召集學校」：三重分區已由第 3 列的學校召集" in body
    assert not School.objects.exists() and not District.objects.exists()


@pytest.mark.django_db
def test_a_missing_column_refuses_the_file():
    with pytest.raises(CommandError):
        call_command("import_schools", "/nonexistent.xlsx")
    from portal.organisation import ImportRefused, schools_import

    with pytest.raises(ImportRefused, match="缺少欄位：學制"):
        schools_import(name="x.csv", data="學校代碼,校名,分區\n014601,板橋國小,板橋\n".encode())


@pytest.mark.django_db
def test_a_reimport_updates_by_school_code_and_keeps_schools_not_in_the_file():
    from portal.organisation import schools_import

    schools_import(name="a.csv", data=as_csv(city_schools(18)))
    rows = city_schools(18)[:10]
    rows[4][1] = "板橋第1國小（改名）"
    rows[4][3] = "新店"  # a tenth district appears
    result = schools_import(name="b.csv", data=as_csv(rows))
    assert (result.created, result.updated, result.unchanged, result.not_in_file) == (0, 1, 9, 8)
    assert result.districts_created == ["新店分區"]
    school = School.objects.get(code=rows[4][0])
    assert (school.name, school.district.name) == ("板橋第1國小（改名）", "新店分區")
    assert School.objects.count() == 18


@pytest.mark.django_db
def test_excel_that_dropped_the_leading_zero_and_big5_csv_are_read():
    from portal.organisation import schools_import

    rows = [[14601, "板橋國小", "國小", "板橋分區", "@BCPS.ntpc.edu.tw", "V"]]
    schools_import(name="a.xlsx", data=as_xlsx(rows))
    school = School.objects.get(code="014601")
    assert school.email_domain == "bcps.ntpc.edu.tw"
    assert school.district.convener_school == school
    big5 = "學校代碼,校名,學制,分區\n014511,明志國中,國民中學,三重\n".encode("cp950")
    schools_import(name="b.csv", data=big5)
    assert School.objects.get(code="014511").get_level_display() == "國中"


@pytest.mark.django_db
def test_conveners_and_bureau_staff_are_invited_from_the_same_list(bureau, login):
    from portal.demo import load

    load()
    rows = [["", "文山", "", "wenshan@psps.ntpc.edu.tw"], ["", "", "系統平臺組", "chen@ntpc.edu.tw"],
            ["014632", "", "", "it@xdes.ntpc.edu.tw"]]  # fmt: skip
    response = upload(login(bureau), reverse("invitations"), "people.csv",
                      as_csv(rows, ["學校代碼", "分區", "組別", "電子郵件"]))  # fmt: skip
    assert response.status_code == 302
    roles = dict(Invitation.objects.values_list("email", "role"))
    assert roles == {"wenshan@psps.ntpc.edu.tw": Role.CONVENER, "chen@ntpc.edu.tw": Role.BUREAU,
                     "it@xdes.ntpc.edu.tw": Role.COORDINATOR}  # fmt: skip
    assert Invitation.objects.get(role=Role.BUREAU).division.name == "系統平臺組"
    assert {m.to[0] for m in mail.outbox} == set(roles)


@pytest.mark.django_db
def test_a_bad_people_list_sends_nothing(bureau, login, xindian_school):
    rows = [[xindian_school.code, "ok@xdes.ntpc.edu.tw"], ["999999", "x@ntpc.edu.tw"],
            [xindian_school.code, "not-an-address"]]  # fmt: skip
    response = upload(login(bureau), reverse("invitations"), "p.csv",
                      as_csv(rows, ["學校代碼", "電子郵件"]))  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 400
    assert "第 3 列，欄位「學校代碼」：找不到代碼「999999」的學校" in body
    assert "第 4 列，欄位「電子郵件」" in body
    assert not Invitation.objects.exists() and not mail.outbox


@pytest.mark.django_db
def test_the_bureau_resends_and_revokes_an_invitation(bureau, login, xindian_school, client):
    from portal.services import invitation_create

    with committed(execute=True):
        invitation = invitation_create(email="lin@xdes.ntpc.edu.tw", school=xindian_school,
                                       invited_by=bureau)  # fmt: skip
    staff = login(bureau)
    with committed(execute=True):
        staff.post(reverse("invitation_resend", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.sent_count == 2 and len(mail.outbox) == 2
    staff.post(reverse("invitation_revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.status == "revoked" and invitation.revoked_by == bureau
    refused = Client().get(reverse("invitation_accept", args=[invitation.token]))
    assert refused.status_code == 410 and "撤銷" in refused.content.decode()
    listing = staff.get(reverse("invitations") + "?status=revoked").content.decode()
    assert "lin@xdes.ntpc.edu.tw" in listing and "已撤銷（1）" in listing


@pytest.mark.django_db
def test_only_bureau_staff_reach_the_setup_pages(coordinator, login):
    client = login(coordinator)
    for name in ("schools_import", "invitations", "mail_test"):
        assert client.get(reverse(name)).status_code == 403
    assert "開站檢查清單" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_checklist_disappears_once_the_basics_are_in_place(
    bureau, login, settings, xindian_school
):
    from portal import audit
    from vmquota.models import CollectorToken

    client = login(bureau)
    home = client.get("/").content.decode()
    assert "開站檢查清單（尚有 4 項）" in home  # schools are there; the other four are not
    factories.coordinator_of(xindian_school)
    audit.record("portal.mail_tested", actor=bureau, accepted=True)
    settings.OIDC_OFF = True
    assert "開站檢查清單（尚有 1 項）" in client.get("/").content.decode()
    assert "發出虛擬機收集器權杖" in client.get("/").content.decode()
    CollectorToken.issue(name="機房 A", created_by=bureau)
    assert "開站檢查清單" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_bootstrap_asks_for_what_it_was_not_given(monkeypatch):
    answers = iter(["it-admin", "it-admin@ntpc.edu.tw", "資訊科管理員"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: ADMIN_PASSWORD)
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    admin = User.objects.get(username="it-admin")
    assert admin.is_superuser and admin.full_name == "資訊科管理員"
    assert Membership.objects.filter(user=admin, role=Role.ADMIN).exists()
    assert "下一步" in out.getvalue()


@pytest.mark.django_db
def test_bootstrap_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("WEAK", "1234")
    with pytest.raises(CommandError, match="密碼不符合規則"):
        call_command("bootstrap", "--username", "a", "--email", "a@ntpc.edu.tw",
                     "--password-from-env", "WEAK")  # fmt: skip
    assert not User.objects.exists()


@pytest.mark.django_db
def test_send_invitations_from_the_command_line(tmp_path, bureau, coordinator):
    from portal.demo import load

    load()
    people = tmp_path / "分區代表.csv"
    people.write_bytes(as_csv([["文山", "wenshan@psps.ntpc.edu.tw"], ["板橋分區", "bq@jtjhs.ntpc.edu.tw"]],
                              ["分區", "電子郵件"]))  # fmt: skip
    with pytest.raises(CommandError, match="不是教育局人員"):
        call_command("send_invitations", str(people), "--by", coordinator.username)
    out = io.StringIO()
    with committed(execute=True):
        call_command("send_invitations", str(people), "--by", bureau.username, stdout=out)
    assert "已寄出 2 封邀請" in out.getvalue()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "bq@jtjhs.ntpc.edu.tw",
        "wenshan@psps.ntpc.edu.tw",
    ]
    assert set(Invitation.objects.values_list("role", flat=True)) == {Role.CONVENER}
