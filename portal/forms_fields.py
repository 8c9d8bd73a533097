"""Form fields that read ROC dates the way people type them."""

from django import forms

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
