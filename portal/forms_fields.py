"""Form fields that read ROC dates the way people type them."""

import re
from datetime import datetime

from django import forms
from django.utils import timezone

from . import rocdate


class ROCDateInput(forms.TextInput):
    def format_value(self, value):
        if hasattr(value, "year"):
            return rocdate.format_short(value)
        return value


class ROCDateField(forms.DateField):
    widget = ROCDateInput

    def __init__(self, *args, school_year=None, **kwargs):
        self.school_year = school_year
        kwargs.setdefault("help_text", "民國年，例如 108/9/23 或 108 年 9 月 23 日")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if hasattr(value, "year"):
            return value
        try:
            return rocdate.parse_date(value, school_year=self.school_year)
        except rocdate.ROCDateError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class ROCDateTimeInput(forms.TextInput):
    def format_value(self, value):
        if isinstance(value, datetime):
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            return rocdate.format_short_datetime(local)
        return value


# The date, then the time after a space or a 「 」: 115/12/31 17:00, 115年12月31日 下午5時
_DATE_THEN_TIME = re.compile(r"^(.*?[日\d])\s+(\S.*)$")


class ROCDateTimeField(forms.DateTimeField):
    """A date and time in ROC, read in Asia/Taipei: 115/12/31 17:00 or 115 年 12 月 31 日 下午 5 時.
    A date alone is the time `default_time` (00:00 unless the form says otherwise)."""

    widget = ROCDateTimeInput

    def __init__(self, *args, default_time=None, **kwargs):
        self.default_time = default_time
        kwargs.setdefault("help_text", "民國年與時間，例如 115/12/31 17:00")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else timezone.make_aware(value)
        text = " ".join(str(value).split())
        m = _DATE_THEN_TIME.match(text)
        date_text, time_text = (m[1], m[2]) if m else (text, None)
        try:
            day = rocdate.parse_date(date_text)
            if time_text is not None:
                at = rocdate.parse_time(time_text)
            elif self.default_time is not None:
                at = self.default_time
            else:
                at = datetime.min.time()
        except rocdate.ROCDateError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None
        return timezone.make_aware(datetime.combine(day, at))

    def prepare_value(self, value):
        return value


class ModelIdsField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows by id that refuses an id no row can have (text, or past the
    database's bigint) as an invalid choice. Django's own field looks such a list up with one
    `IN (…)`, which SQLite cannot even bind (OverflowError, a 500)."""

    MAX_ID = 2**63 - 1

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            digits = text.isascii() and text.isdigit() and len(text) <= 19
            if not digits or not 0 < int(text) <= self.MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:50]},
                )
        return super()._check_values(value)
