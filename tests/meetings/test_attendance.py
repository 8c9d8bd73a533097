"""Attendance by school: ticked on the edit page (a fieldset per district), shown in the minutes
as the list of schools, else the attendance note (詳簽到表)."""

import re

import pytest
from django.urls import reverse

from meetings import rendering, selectors, services
from meetings.models import Correction, Meeting


def attendance_line(meeting):
    text = rendering.as_text(selectors.meeting_document(Meeting.objects.get(pk=meeting.pk)))
    return next(line for line in text.splitlines() if line.startswith("肆、出席人員"))


@pytest.fixture
def schools(xindian_school, beixin_school, jiangcui_school):
    return xindian_school, beixin_school, jiangcui_school


def test_the_edit_page_groups_schools_by_district_in_fieldsets(
    login, bureau, draft_meeting, schools
):
    html = login(bureau).get(reverse("meetings:edit", args=[draft_meeting.pk])).content.decode()
    fieldsets = re.findall(r'<fieldset class="attendance-district">(.*?)</fieldset>', html, re.S)
    legends = [re.search(r"<legend>(.*?)</legend>", f).group(1) for f in fieldsets]
    assert legends == ["板橋分區", "文山分區"]  # in the districts' order
    assert "江翠國中" in fieldsets[0] and "新店國小" in fieldsets[1] and "北新國小" in fieldsets[1]
    xindian = schools[0]
    assert (
        f'<input type="checkbox" name="att-attendees" value="{xindian.pk}" id="att-{xindian.pk}">'
        in html
    )
    assert f'<label for="att-{xindian.pk}">新店國小</label>' in html


def test_ticked_schools_replace_the_note_in_the_minutes(login, bureau, draft_meeting, schools):
    xindian, beixin, jiangcui = schools
    services.meeting_update(
        meeting=draft_meeting, user=bureau, changes={"attendance_note": "詳簽到表"}
    )
    assert attendance_line(draft_meeting) == "肆、出席人員：詳簽到表"
    client = login(bureau)
    url = reverse("meetings:attendance", args=[draft_meeting.pk])
    assert client.post(url, {"att-attendees": [xindian.pk, jiangcui.pk]}).status_code == 302
    assert set(draft_meeting.attendees.all()) == {xindian, jiangcui}
    # 板橋分區 comes before 文山分區
    assert attendance_line(draft_meeting) == "肆、出席人員：江翠國中、新店國小（共 2 校）"
    html = client.get(draft_meeting.get_absolute_url()).content.decode()
    assert "肆、出席人員：江翠國中、新店國小（共 2 校）" in html
    edit = client.get(reverse("meetings:edit", args=[draft_meeting.pk])).content.decode()
    assert f'value="{xindian.pk}" id="att-{xindian.pk}" checked>' in edit
    assert f'value="{beixin.pk}" id="att-{beixin.pk}">' in edit
    client.post(url, {})  # nothing ticked: back to the note
    assert attendance_line(draft_meeting) == "肆、出席人員：詳簽到表"


def test_on_published_minutes_attendance_changes_are_corrections(bureau, seed_meeting, schools):
    xindian, beixin, _ = schools
    with pytest.raises(services.MeetingError, match="更正原因"):
        services.meeting_attendance_set(meeting=seed_meeting, user=bureau, schools=[xindian])
    assert not seed_meeting.attendees.exists()
    services.meeting_attendance_set(
        meeting=seed_meeting, user=bureau, schools=[xindian, beixin], reason="補登出席學校"
    )
    correction = Correction.objects.get()
    assert (correction.target, correction.old_value, correction.new_value) == (
        "出席學校", "", "北新國小、新店國小",
    )  # fmt: skip
    # the same list again changes nothing and records nothing
    services.meeting_attendance_set(meeting=seed_meeting, user=bureau, schools=[beixin, xindian])
    assert Correction.objects.count() == 1


def test_coordinators_cannot_set_attendance(login, coordinator, bureau, draft_meeting, schools):
    services.meeting_publish(meeting=draft_meeting, user=bureau)
    response = login(coordinator).post(
        reverse("meetings:attendance", args=[draft_meeting.pk]),
        {"att-attendees": [schools[0].pk], "att-reason": "x"},
    )
    assert response.status_code == 403 and not draft_meeting.attendees.exists()
