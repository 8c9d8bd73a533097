"""meetings 0004–0006: survey links (Attachment.survey) become Attachment.linked, and back."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("meetings", "0003_attachment_files_survey_links_announced")


def test_survey_links_survive_the_move_to_linked_and_back(transactional_db):
    from signups import demo as signups_demo

    survey = signups_demo.load()  # made with today's models, whatever signups' state is
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    Series, Meeting, Attachment = (
        old.get_model("meetings", name) for name in ("MeetingSeries", "Meeting", "Attachment")
    )
    meeting = Meeting.objects.create(
        series=Series.objects.create(name="聯席會議", organiser="召集學校"),
        title="108 年度 9 月份聯席會議", held_on="2019-09-10",
    )  # fmt: skip
    link = Attachment.objects.create(meeting=meeting, title="調查表", survey_id=survey.pk)
    plain = Attachment.objects.create(meeting=meeting, title="簽到表", url="https://example.tw/")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from meetings.models import Attachment as Now

    assert Now.objects.get(pk=link.pk).linked == survey
    assert Now.objects.get(pk=plain.pk).linked_id is None

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    assert old.get_model("meetings", "Attachment").objects.get(pk=link.pk).survey_id == survey.pk
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
