"""python manage.py survey_from_template FILE.xlsx --title T --closes "115/12/31 17:00" --dry-run
--json: what the bureau's template becomes (columns with proposed types, rules from the notes,
notes, warnings), printed as JSON, or every problem naming its cell."""

import json
from pathlib import Path

from django import forms
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal import rocdate
from portal.forms_fields import ROCDateTimeField

from ... import services
from ...bureau_template import TemplateRefused, read_template


class Command(BaseCommand):
    help = "讀取教育局的 .xlsx 調查表範本，列出建議的欄位、規則與備註。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="範本 .xlsx")
        parser.add_argument("--title", help="調查名稱（預設用範本的標題列）")
        parser.add_argument("--closes", help="截止時間（民國），例如 115/12/31 17:00")
        parser.add_argument("--opens", help="開放填報時間（民國，預設為現在）")
        parser.add_argument("--dry-run", action="store_true", help="只列出建議，不建立調查")
        parser.add_argument("--json", action="store_true", help="以 JSON 輸出")

    def handle(
        self, *args, file, title=None, closes=None, opens=None, dry_run=False, json=False, **options
    ):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到檔案：{file}")
        closes_at = _moment(closes, "截止時間")
        opens_at = _moment(opens, "開放填報時間") or timezone.now()
        try:
            proposal = read_template(path.read_bytes())
        except TemplateRefused as exc:
            raise CommandError("範本無法使用：\n" + "\n".join(exc.messages)) from None
        if title:
            proposal.title = title
        data = proposal.as_data()
        if not dry_run:
            if closes_at is None:
                raise CommandError('建立調查須指定 --closes，例如 --closes "115/12/31 17:00"。')
            try:
                survey = services.survey_from_proposal(
                    proposal=proposal, title=title, opens_at=opens_at, closes_at=closes_at,
                    by=None,
                )  # fmt: skip
            except services.SignupError as exc:
                raise CommandError(str(exc)) from None
            data["survey"] = survey.pk
        if closes_at is not None:
            data["closes"] = rocdate.format_short_datetime(timezone.localtime(closes_at))
        if json:
            self.stdout.write(_json(data))
            return
        if "survey" in data:
            self.stdout.write(f"已建立調查 {data['survey']}：{data['title']}")
        self.stdout.write(data["title"])
        for c in data["columns"]:
            self.stdout.write(f"  {c['label']}：{c['type']}{'' if c['required'] else '（選填）'}")
        for r in data["rules"]:
            self.stdout.write(f"  規則 {r['kind']}：{r.get('column', '')} {r.get('text', '')}")
        for w in data["warnings"]:
            self.stdout.write(f"  注意：{w['message']}")


def _moment(text, what):
    if not text:
        return None
    try:
        return ROCDateTimeField().clean(text)
    except forms.ValidationError as exc:
        raise CommandError(f"{what}：{' '.join(exc.messages)}") from None


def _json(data):
    return json.dumps(data, ensure_ascii=False, indent=2)
