"""Bad input yields a refusal with a message, never a 500, never a stored
fragment; typed markup is shown as text, never as a tag.

- the collector API (/api/vmquota/samples): malformed JSON, wrong types, huge bodies;
- XSS payloads in every text field of the minutes (import text and edit forms), tracked-item
  updates and signup offers, looked for on every page that shows them;
- malformed uploads: a renamed text file, a zip that is not the expected document, a zip bomb, an
  XML entity bomb (.xlsx for signups, .docx for minutes, .csv for samples).

HTML forms answer invalid input by showing the form again with the message next to the field
(200, or 400 where the app chose it); the API answers 4xx with a JSON message.
"""

import io
import json
import re
import zipfile
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils.html import escape
from openpyxl import Workbook

pytestmark = pytest.mark.django_db

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.injected = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if any(name.startswith("on") for name in names):
            self.injected.append(f"<{tag} {' '.join(sorted(names))}>")
        if tag == "img" and ("src", "x") in attrs:
            self.injected.append("<img src=x>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "alert(1)" in data:
            self.injected.append(f"<script>{data}</script>")


def injected_tags(html):
    parser = _Tags()
    parser.feed(html)
    return parser.injected


def assert_shown_escaped(pages, payload):
    """On every page the payload is never markup; on at least one it is shown (escaped)."""
    shown = []
    for url, html in pages.items():
        assert payload not in html, f"{url} contains the payload unescaped"
        assert injected_tags(html) == [], f"{url}: {injected_tags(html)}"
        if escape(payload) in html:
            shown.append(url)
    assert shown, f"the payload is shown escaped on none of {list(pages)}"
    return shown


def assert_feed_safe(feed, payload):
    """In an Atom feed, `type="html"` content is HTML once the XML is decoded: the payload must
    still be escaped there (double-escaped in the XML), or a feed reader renders it as markup."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(feed.encode())
    for element in root.iter():
        if element.get("type") in ("html", "xhtml"):
            assert payload not in (element.text or ""), f"{element.tag}: {element.text[:120]}"
            assert injected_tags(element.text or "") == [], element.text[:120]


def get_pages(client, urls):
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, f"GET {url}: HTTP {response.status_code}"
        pages[url] = response.content.decode()
    return pages


def as_(client, world, role):
    client.force_login(world.people[role])
    return client


def test_the_checker_finds_injected_markup():
    """The checks above can fail: a raw payload is found as a tag, an escaped one is not."""
    for payload in PAYLOADS:
        assert injected_tags(f"<p>{payload}</p>") != []
        assert injected_tags(f"<p>{escape(payload)}</p>") == []
        assert injected_tags(f'<input value="{escape(payload)}">') == []
    assert injected_tags(f'<input value="{PAYLOADS[1]}">') != [], "breaking out of an attribute"


# --- the collector API ----------------------------------------------------------------------------

API = "/api/vmquota/samples"


@pytest.fixture
def token(world):
    from vmquota.models import CollectorToken, Hypervisor

    return CollectorToken.issue(name="bad-input tests", hypervisors=Hypervisor.objects.all())[1]


def post_api(client, token, body, content_type="application/json"):
    from vmquota.models import UsageSample

    before = UsageSample.objects.count()
    response = client.post(
        API, body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.content[:300]!r}"
    assert UsageSample.objects.count() == before, "a refused batch stored samples"
    return response


def sample(world, **fields):
    from django.utils import timezone

    return {"vm": world.xindian_vm.name, "ts": timezone.now().isoformat(),
            "cpu_percent": 12.5, "net_kbps": 100, **fields}  # fmt: skip


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    return body


def test_a_good_batch_is_stored(world, client, token):
    """The baseline: the same helper stores a valid batch (so the refusals below mean something)."""
    from vmquota.models import UsageSample

    before = UsageSample.objects.count()
    response = client.post(API, {"samples": [sample(world)]}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code == 200, response.content
    assert UsageSample.objects.count() == before + 1


@pytest.mark.parametrize(
    "body",
    ['{"samples": [', "not json", "", "{'samples': []}", '{"samples": [1,]}', "\ufeff{",
     b"\xff\xfe\x00garbage", "null", "[]", '"samples"', "42", '{"samples": {}}',
     '{"samples": "all"}', '{"samples": null}', '{"sample": []}'],
    ids=lambda b: repr(b)[:30],
)  # fmt: skip
def test_malformed_json_is_refused_with_a_message(client, token, body):
    assert_json_error(post_api(client, token, body), 400)


def test_deeply_nested_json_is_refused_with_a_message(client, token):
    body = '{"samples": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert_json_error(post_api(client, token, body), 400)


WRONG = [
    ("vm", None), ("vm", 42), ("vm", ["test"]), ("vm", ""), ("vm", "no-such-vm"),
    ("vm", "<script>alert(1)</script>"), ("ts", None), ("ts", 1568080800), ("ts", "yesterday"),
    ("ts", "2019-09-10T10:00:00"), ("ts", "2999-01-01T00:00:00+08:00"), ("ts", {"$date": 1}),
    ("cpu_percent", "12"), ("cpu_percent", None), ("cpu_percent", -0.1), ("cpu_percent", 100.01),
    ("cpu_percent", True), ("cpu_percent", [1]), ("cpu_percent", 1e400),
    ("net_kbps", -1), ("net_kbps", "fast"), ("net_kbps", None), ("net_kbps", 1e400),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), WRONG, ids=lambda v: repr(v)[:25])
def test_a_wrong_type_refuses_the_whole_batch_naming_the_row_and_field(
    world, client, token, field, value
):
    good = sample(world)
    body = json.dumps({"samples": [good, sample(world, **{field: value})]})
    error = assert_json_error(post_api(client, token, body), 400)
    assert {"index": 1, "field": field} in [
        {"index": e["index"], "field": e["field"]} for e in error["errors"]
    ]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(world, client, token, literal):
    body = json.dumps({"samples": [sample(world)]}).replace("12.5", literal)
    assert_json_error(post_api(client, token, body), 400)


@pytest.mark.parametrize("row", ["a string", 7, None, [], [1, 2]], ids=repr)
def test_a_sample_that_is_not_an_object_is_refused(client, token, row):
    error = assert_json_error(post_api(client, token, json.dumps({"samples": [row]})), 400)
    assert error["errors"][0]["index"] == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(world, client, token):
    body = json.dumps({"samples": [sample(world)], "padding": "x" * (4 * 1024 * 1024)})
    assert_json_error(post_api(client, token, body), 413)


def test_a_body_between_djangos_and_the_apis_limit_gets_a_json_answer(world, client, token):
    """Bodies up to the API's 4 MiB reach the API (Django's own upload limit must not answer
    first with an HTML 400)."""
    body = json.dumps({"samples": [sample(world)], "padding": "x" * (3 * 1024 * 1024)})
    response = client.post(API, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


def test_too_many_samples_are_refused(world, client, token):
    from django.conf import settings

    rows = [sample(world)] * (settings.VMQUOTA_MAX_SAMPLES_PER_REQUEST + 1)
    assert_json_error(post_api(client, token, json.dumps({"samples": rows})), 413)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer vmq_not-a-token",
     "Token {token}", "Bearer {token}x", "bearer  "],
)  # fmt: skip
def test_a_missing_or_wrong_token_is_refused(world, client, token, header):
    from vmquota.models import UsageSample

    before = UsageSample.objects.count()
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header.format(token=token)}
    response = client.post(API, json.dumps({"samples": [sample(world)]}),
                           content_type="application/json", **extra)  # fmt: skip
    assert_json_error(response, 401)
    assert UsageSample.objects.count() == before


def test_a_token_in_the_query_string_is_not_a_credential(world, client, token):
    response = client.post(f"{API}?token={token}&access_token={token}",
                           json.dumps({"samples": [sample(world)]}), content_type="application/json")  # fmt: skip
    assert_json_error(response, 401)


def test_a_revoked_token_is_refused(world, client, token):
    from django.utils import timezone

    from vmquota.models import CollectorToken, token_digest

    CollectorToken.objects.filter(digest=token_digest(token)).update(revoked_at=timezone.now())
    assert_json_error(post_api(client, token, json.dumps({"samples": [sample(world)]})), 401)


# --- XSS in the minutes ---------------------------------------------------------------------------


def minutes_pages(world, meeting):
    return [
        reverse("meetings:edit", args=[meeting.pk]),
        reverse("meetings:detail", args=[meeting.pk]),
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(
    "field", ["title", "place", "chair", "recorder", "attendance_note", "chair_remarks"]
)
def test_markup_in_the_meeting_header_is_shown_as_text(world, client, field, payload):
    client = as_(client, world, "bureau")
    data = {"title": "108 年度 10 月份聯席會議", "held_on": "108/10/15", "place": "新店國小",
            field: f"前文 {payload} 後文"}  # fmt: skip
    response = client.post(reverse("meetings:edit", args=[world.draft.pk]), data)
    assert response.status_code == 302, "the header was saved"
    assert_shown_escaped(get_pages(client, minutes_pages(world, world.draft)), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_report_items_is_shown_as_text(world, client, payload):
    from meetings.models import ReportItem
    from portal.models import Division

    client = as_(client, world, "bureau")
    division = Division.objects.order_by("id").first()
    client.post(reverse("meetings:item_add", args=[world.draft.pk]),
                {"add-division": division.pk, "add-parent": "", "add-text": f"新增 {payload}"})  # fmt: skip
    assert ReportItem.objects.filter(meeting=world.draft, text__contains=payload).exists()
    client.post(reverse("meetings:item_update", args=[world.draft.pk, world.draft_item.pk]),
                {"text": f"修改 {payload}", "reason": payload})  # fmt: skip
    assert ReportItem.objects.get(pk=world.draft_item.pk).text == f"修改 {payload}"
    assert_shown_escaped(get_pages(client, minutes_pages(world, world.draft)), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_motions_is_shown_as_text(world, client, payload):
    from meetings.models import Motion

    client = as_(client, world, "bureau")
    fields = {"subject": f"案由 {payload}", "explanation": f"說明 {payload}",
              "resolution": f"決議 {payload}", "proposer": f"提案 {payload}"}  # fmt: skip
    client.post(reverse("meetings:motion_add", args=[world.draft.pk]),
                {"motion-kind": "extempore", **{f"motion-{k}": v for k, v in fields.items()}})  # fmt: skip
    assert Motion.objects.filter(meeting=world.draft, subject=fields["subject"]).exists()
    prefix = f"m{world.draft_motion.pk}"
    client.post(reverse("meetings:motion_update", args=[world.draft.pk, world.draft_motion.pk]),
                {f"{prefix}-{k}": v for k, v in fields.items()})  # fmt: skip
    assert Motion.objects.get(pk=world.draft_motion.pk).explanation == fields["explanation"]
    shown = assert_shown_escaped(get_pages(client, minutes_pages(world, world.draft)), payload)
    assert len(shown) == 2


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_published_minutes_stays_text_in_search_and_home(world, client, payload):
    from meetings import services

    bureau = world.people["bureau"]
    services.motion_add(meeting=world.draft, user=bureau, kind="extempore",
                        subject=f"資安宣導 {payload}", resolution="照案通過")  # fmt: skip
    services.meeting_update(meeting=world.draft, user=bureau,
                            changes={"place": f"會議室 {payload}", "chair": payload})  # fmt: skip
    services.meeting_publish(meeting=world.draft, user=bureau)
    client = as_(client, world, "coordinator")
    pages = get_pages(client, [reverse("meetings:detail", args=[world.draft.pk]),
                               reverse("meetings:search") + "?q=資安宣導", "/"])  # fmt: skip
    shown = assert_shown_escaped(pages, payload)
    assert reverse("meetings:search") + "?q=資安宣導" in shown


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_published_minutes_stays_text_in_the_feed(world, client, payload):
    from meetings import services

    bureau = world.people["bureau"]
    services.meeting_update(meeting=world.draft, user=bureau,
                            changes={"place": f"會議室 {payload}", "chair": payload})  # fmt: skip
    services.meeting_publish(meeting=world.draft, user=bureau)
    feed = client.get(reverse("meetings:feed", args=[world.feed_key])).content.decode()
    assert world.draft.title in feed, "the published meeting is in the feed"
    assert_feed_safe(feed, payload)


def seed_text_with(payload):
    from tests.security.world import seed_text

    return seed_text(month=12, **{
        "新北市教育研究發展中心 3 樓網管會議室": f"會議室 {payload}",
        "吳科長佳珊": f"主持人 {payload}",
        "何時會調查模組功能的修改建議": f"何時調查 {payload} 的修改建議",
    })  # fmt: skip


def import_minutes(client, data, capture):
    """Post the import form; the preview runs as a background job (run here on commit). Returns
    (response showing the outcome, preview job id or None when the form itself refused)."""
    with capture(execute=True):
        response = client.post(reverse("meetings:import"), data)
    if response.status_code != 302:
        return response, None
    job_pk = int(response["Location"].rstrip("/").split("/")[-1])
    return client.get(reverse("meetings:import_preview", args=[job_pk])), job_pk


def save_import(client, job_pk, capture):
    with capture(execute=True):
        return client.post(reverse("meetings:import_save", args=[job_pk]))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_imported_minutes_is_shown_as_text(
    world, client, django_capture_on_commit_callbacks, payload
):
    from meetings.models import Meeting

    client = as_(client, world, "bureau")
    preview, job_pk = import_minutes(client, {"text": seed_text_with(payload)},
                                     django_capture_on_commit_callbacks)  # fmt: skip
    assert preview.status_code == 200 and job_pk
    # the importer drops markup left in extracted text (a class of artefact of copied web pages),
    # so what is shown is the text without its tags – and never markup
    kept = "會議室 " + re.sub(r"<[^>]*>", "", payload)
    html = preview.content.decode()
    assert payload not in html and injected_tags(html) == [] and escape(kept) in html
    save_import(client, job_pk, django_capture_on_commit_callbacks)
    meeting = Meeting.objects.get(place=kept)
    pages = get_pages(client, minutes_pages(world, meeting))
    assert all(payload not in html and injected_tags(html) == [] for html in pages.values())
    assert any(escape(kept) in html for html in pages.values())


# --- XSS in tracked-item updates ------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_a_status_update_is_shown_as_text(world, client, payload):
    client = as_(client, world, "bureau")
    item = reverse("tracking:item", args=[world.open_case_no])
    response = client.post(reverse("tracking:update", args=[world.open_case_no]),
                           {"text": f"已處理 {payload}"})  # fmt: skip
    assert response.status_code == 302
    coordinator = as_(client, world, "coordinator")
    pages = get_pages(coordinator, [item, reverse("tracking:list"), "/"])
    assert item in assert_shown_escaped(pages, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_a_status_update_stays_text_in_the_feed(world, client, payload):
    client = as_(client, world, "bureau")
    response = client.post(reverse("tracking:update", args=[world.open_case_no]),
                           {"text": f"已處理 {payload}"})  # fmt: skip
    assert response.status_code == 302
    feed = as_(client, world, "coordinator").get(reverse("tracking:feed")).content.decode()
    assert "已處理" in feed
    assert_feed_safe(feed, payload)


def test_a_blank_status_update_is_refused_with_a_message_and_not_stored(world, client):
    from tracking.models import StatusUpdate

    client = as_(client, world, "bureau")
    before = StatusUpdate.objects.count()
    response = client.post(reverse("tracking:update", args=[world.open_case_no]), {"text": "  "})
    assert response.status_code == 400
    assert "請填寫辦理情形" in response.content.decode()
    assert StatusUpdate.objects.count() == before


# --- XSS and bad values in signup offers ----------------------------------------------------------

ROW = {
    "category": "技能研習", "course_name": "Scratch 遊戲設計", "activity": "2/7", "venue": "新店國小",
    "fee": "免費", "registration": "12/25~1/3", "grade_from": "3", "grade_to": "4",
    "gender": "open", "capacity": "25",
}  # fmt: skip


def filing(row, action="save"):
    data = {"rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0", "rows-MIN_NUM_FORMS": "0",
            "rows-MAX_NUM_FORMS": "1000", "action": action, "rows-0-ORDER": "1"}  # fmt: skip
    data.update({f"rows-0-{k}": v for k, v in row.items()})
    return data


def offers(world):
    from signups.models import Offer

    return sorted(Offer.objects.filter(response__survey=world.survey)
                  .values_list("course_name", "venue"))  # fmt: skip


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", ["course_name", "venue"])
def test_markup_in_an_offers_free_text_is_shown_as_text(world, client, field, payload):
    client = as_(client, world, "coordinator")
    file_url = reverse("signups:file", args=[world.survey.pk, world.xindian.pk])
    response = client.post(file_url, filing({**ROW, field: f"課程 {payload}"}))
    assert response.status_code == 302, "the row was saved"
    pages = {f"{file_url} (the school's draft)": client.get(file_url).content.decode()}
    client.post(file_url, filing({**ROW, field: f"課程 {payload}"}, action="submit"))
    bureau = as_(client, world, "bureau")
    pages.update(get_pages(bureau, [reverse("signups:rows", args=[world.survey.pk]),
                                    reverse("signups:grid", args=[world.survey.pk]), file_url]))  # fmt: skip
    shown = assert_shown_escaped(pages, payload)
    assert f"{file_url} (the school's draft)" in shown and file_url in shown, (
        "sent, the bureau sees it"
    )


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(
    "field", ["category", "activity", "fee", "registration", "grade_from", "grade_to", "gender",
              "capacity"],
)  # fmt: skip
def test_markup_in_an_offers_typed_field_is_refused_with_a_message(world, client, field, payload):
    client = as_(client, world, "coordinator")
    before = offers(world)
    file_url = reverse("signups:file", args=[world.survey.pk, world.xindian.pk])
    response = client.post(file_url, filing({**ROW, field: payload}, action="submit"))
    html = response.content.decode()
    assert response.status_code in (200, 400), "the table is shown again"
    assert "有些欄位需要修正" in html and f'id="id_rows-0-{field}_error"' in html
    assert offers(world) == before, "nothing of the refused table was stored"
    assert payload not in html and injected_tags(html) == []


# --- malformed uploads ----------------------------------------------------------------------------


def upload(content, name):
    f = io.BytesIO(content)
    f.name = name
    return f


def real_xlsx():
    book = Workbook()
    book.active.append(["項次", "類型"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def zip_with(members, base=None):
    """A zip holding `base`'s members (bytes of a zip) plus `members` {name: bytes or (byte,
    size) for a member of `size` bytes of one repeated byte, written in pieces}."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if base:
            with zipfile.ZipFile(io.BytesIO(base)) as source:
                for info in source.infolist():
                    if info.filename not in members:
                        archive.writestr(info, source.read(info.filename))
        for name, content in members.items():
            if isinstance(content, tuple):
                head, filler, size = content
                with archive.open(name, "w", force_zip64=True) as member:
                    member.write(head)
                    chunk = filler * (1024 * 1024)
                    for _ in range(size // len(chunk)):
                        member.write(chunk)
            else:
                archive.writestr(name, content)
    return out.getvalue()


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row><c t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
)

BAD_XLSX = {
    "renamed-text": lambda: b"\xe9\xa0\x85\xe6\xac\xa1,\xe9\xa1\x9e\xe5\x9e\x8b\nFUN Coding,1\n",
    "zip-not-xlsx": lambda: zip_with({"readme.txt": b"hello"}),
    "docx-as-xlsx": lambda: zip_with({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
    "truncated-xlsx": lambda: real_xlsx()[:400],
    "zip-bomb": lambda: zip_with({"xl/media/pad.bin": (b"", b"\0", 60 * 1024 * 1024)}, real_xlsx()),
    "entity-bomb": lambda: zip_with({"xl/worksheets/sheet1.xml": ENTITY_BOMB}, real_xlsx()),
    "empty": lambda: b"",
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BAD_XLSX))
def test_a_malformed_spreadsheet_is_refused_with_a_message_and_stores_nothing(world, client, kind):
    from signups.models import Response

    client = as_(client, world, "coordinator")
    before = (offers(world), list(Response.objects.values_list("pk", "status")))
    path = reverse("signups:import", args=[world.survey.pk, world.xindian.pk])
    response = client.post(path, {"file": upload(BAD_XLSX[kind](), "新店國小.xlsx")}, follow=True)
    html = response.content.decode()
    assert response.status_code in (200, 400)
    assert response.redirect_chain == [] or response.status_code == 200
    assert "匯入" in html and ("無法" in html or "不是" in html or "錯誤" in html or "請" in html)
    assert (offers(world), list(Response.objects.values_list("pk", "status"))) == before


def test_a_spreadsheet_refusal_names_the_problem(world, client):
    client = as_(client, world, "coordinator")
    path = reverse("signups:import", args=[world.survey.pk, world.xindian.pk])
    response = client.post(path, {"file": upload(BAD_XLSX["renamed-text"](), "rows.xlsx")})
    assert response.status_code == 400
    assert "xlsx" in response.content.decode().lower()


def real_docx():
    import docx

    document = docx.Document()
    for line in seed_text_with("（無）").splitlines():
        document.add_paragraph(line)
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()


def docx_bomb():
    """A valid minutes .docx whose document.xml gains 60 paragraphs of 1 MB each (about 60 KB
    compressed): small on the wire, 60 MB once unzipped."""
    base = real_docx()
    with zipfile.ZipFile(io.BytesIO(base)) as source:
        xml = source.read("word/document.xml")
    head, tail = xml.split(b"</w:body>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(io.BytesIO(base)) as source:
            for info in source.infolist():
                if info.filename != "word/document.xml":
                    archive.writestr(info, source.read(info.filename))
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(head)
            paragraph = b"<w:p><w:r><w:t>" + b"a" * (1024 * 1024) + b"</w:t></w:r></w:p>"
            for _ in range(60):
                member.write(paragraph)
            member.write(b"</w:body>" + tail)
    return out.getvalue()


BAD_DOCX = {
    "renamed-binary": lambda: b"\x00\x01\x02binary" * 100,
    "zip-not-docx": lambda: zip_with({"readme.txt": b"hello"}),
    "xlsx-as-docx": lambda: real_xlsx(),
    "truncated-docx": lambda: real_docx()[:500],
    "docx-zip-bomb": docx_bomb,
}


@pytest.mark.parametrize("kind", list(BAD_DOCX))
def test_a_malformed_minutes_document_is_refused_with_a_message_and_stores_nothing(
    world, client, django_capture_on_commit_callbacks, kind
):
    from meetings.models import Meeting

    client = as_(client, world, "bureau")
    before = Meeting.objects.count()
    shown, job_pk = import_minutes(client, {"file": upload(BAD_DOCX[kind](), "紀錄.docx")},
                                   django_capture_on_commit_callbacks)  # fmt: skip
    assert shown.status_code in (200, 400), "the form, or the preview, is shown"
    html = shown.content.decode()
    assert 'class="error' in html or 'class="form-errors"' in html, "a message says why"
    if job_pk:  # the preview refused it: saving it is refused too
        save_import(client, job_pk, django_capture_on_commit_callbacks)
    assert Meeting.objects.count() == before


def peak_traced_bytes(call):
    import tracemalloc

    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("name", "make", "role"),
    [("signups:import", BAD_XLSX["zip-bomb"], "coordinator"),
     ("meetings:import", docx_bomb, "bureau")],
    ids=["xlsx", "docx"],
)  # fmt: skip
def test_a_zip_bomb_is_refused_without_being_inflated(world, client, name, make, role):
    """60 MB unzipped: refusing it must not allocate anything near that (traced by tracemalloc)."""
    client = as_(client, world, role)
    bomb = make()
    path = (reverse(name, args=[world.survey.pk, world.xindian.pk]) if name == "signups:import"
            else reverse(name))  # fmt: skip
    responses = []
    peak = peak_traced_bytes(
        lambda: responses.append(
            client.post(path, {"file": upload(bomb, "bomb"), "action": "save"})
        )
    )
    assert responses[0].status_code in (200, 302, 400)
    assert peak < 20 * 1024 * 1024, f"{peak / 1024 / 1024:.0f} MB allocated while refusing it"


def test_a_good_minutes_document_is_imported(world, client, django_capture_on_commit_callbacks):
    """The baseline for the refusals above: the same path imports a real .docx."""
    from meetings.models import Meeting

    client = as_(client, world, "bureau")
    before = Meeting.objects.count()
    shown, job_pk = import_minutes(client, {"file": upload(real_docx(), "紀錄.docx")},
                                   django_capture_on_commit_callbacks)  # fmt: skip
    assert shown.status_code == 200 and job_pk, "previewed"
    save_import(client, job_pk, django_capture_on_commit_callbacks)
    assert Meeting.objects.count() == before + 1


@pytest.mark.parametrize(
    "content",
    [b"\x00\xff\xfe binary", "vm,ts\n".encode("cp950"), b"PK\x03\x04 not csv",
     "虛擬機,時間\n測試,今天\n".encode("big5"),
     b"vm,ts,cpu_percent,net_kbps\ntest,now,1,1\n"],
    ids=["binary", "missing-columns", "zip-magic", "big5", "bad-row"],
)  # fmt: skip
def test_a_malformed_samples_csv_is_refused_with_a_message(world, client, content):
    from vmquota.models import UsageSample

    client = as_(client, world, "bureau")
    before = UsageSample.objects.count()
    response = client.post(reverse("vmquota:upload"), {"file": upload(content, "samples.csv")})
    assert response.status_code in (200, 400)
    html = response.content.decode()
    assert "codec" not in html, "the message is in plain Chinese"
    assert "第 2 行" in html or "UTF-8" in html or "缺少" in html
    assert UsageSample.objects.count() == before


# --- attachments to the minutes -------------------------------------------------------------------


def attach(client, world, content, name, title=""):
    from meetings.models import Attachment

    before = Attachment.objects.count()
    response = client.post(reverse("meetings:attachment_add", args=[world.draft.pk]),
                           {"file-file": upload(content, name), "file-title": title,
                            "file-place": "meeting"}, follow=True)  # fmt: skip
    assert response.status_code == 200
    return response.content.decode(), Attachment.objects.count() - before


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"<html><script>alert(1)</script></html>", "slides.pdf"),
     (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "logo.png"),
     (b"%PDF-1.4 a real PDF", "slides.html"), (b"", "empty.pdf"),
     (b"PK\x03\x04 broken zip", "plan.docx")],
    ids=["html-as-pdf", "svg-as-png", "pdf-as-html", "empty", "broken-zip"],
)  # fmt: skip
def test_an_attachment_that_is_not_what_its_name_says_is_refused(world, client, content, name):
    html, added = attach(as_(client, world, "bureau"), world, content, name)
    assert added == 0
    assert 'class="message message-error"' in html or "message-error" in html, "a message says why"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_attachments_title_and_file_name_are_shown_as_text(world, client, payload):
    from tests.security.world import PDF

    client = as_(client, world, "bureau")
    _, added = attach(client, world, PDF, f"x{payload}.pdf", title=f"簡報 {payload}")
    assert added == 1
    assert_shown_escaped(get_pages(client, minutes_pages(world, world.draft)), payload)


def test_a_pdf_with_markup_inside_is_served_as_a_pdf_never_as_a_page(world, client):
    from meetings.models import Attachment

    client = as_(client, world, "bureau")
    _, added = attach(client, world, b"%PDF-1.4\n<html><script>alert(1)</script></html>", "a.pdf")
    assert added == 1
    attachment = Attachment.objects.latest("id")
    response = client.get(reverse("meetings:attachment", args=[world.draft.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
