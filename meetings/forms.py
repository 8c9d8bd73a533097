"""Forms of the minutes pages. Every field has a Chinese label; errors are tied to fields."""

import base64

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from portal import rocdate
from portal.badinput import NUL_MESSAGE
from portal.forms_fields import ModelIdsField, ROCDateField
from portal.models import Division, School

from . import attachments as attachment_types
from .models import Meeting, Motion

REASON_HELP = "已發布的會議紀錄修改會留下更正紀錄（誰、何時、改了什麼、原因）。"


class ImportForm(forms.Form):
    text = forms.CharField(
        label="貼上會議紀錄全文",
        required=False,
        strip=False,  # warnings cite line numbers of the text as pasted
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="從 Word、PDF 或網頁全選複製後貼上；也可以改為上傳檔案。",
    )
    file = forms.FileField(
        label="或上傳檔案（.docx、.pdf、.txt、.html）",
        required=False,
        help_text="PDF 須有文字層（掃描影像無法讀取）；舊版 .doc 請先在 Word 另存為 .docx。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's own refusal of a NUL byte says "Null characters are not allowed"; name it
        text = self.fields["text"]
        text.validators = [
            ProhibitNullCharactersValidator(message=NUL_MESSAGE)
            if isinstance(v, ProhibitNullCharactersValidator) else v
            for v in text.validators
        ]  # fmt: skip

    def clean_text(self):
        from . import importer  # the minutes' parser: only the import page needs it

        text = self.cleaned_data["text"]
        if len(text.encode("utf-8")) > importer.MAX_BYTES:
            raise forms.ValidationError(
                f"貼上的內容太長（{len(text.encode('utf-8')) / 1024 / 1024:.1f} MB）；會議紀錄全文"
                f"不會超過 {importer.MAX_BYTES // 1024 // 1024} MB，請確認貼上的是會議紀錄。"
            )
        return text

    def clean(self):
        from . import importer

        data = super().clean()
        upload = data.get("file")
        if "text" in self.errors:
            return data  # the text's own error says what is wrong with it
        if upload:
            head = upload.read(1024)
            upload.seek(0)
            limit = importer.MAX_PDF_BYTES if importer.is_pdf(head) else importer.MAX_BYTES
            if upload.size > limit:
                raise forms.ValidationError(
                    f"檔案太大（{upload.size / 1024 / 1024:.1f} MB）；會議紀錄不會超過 "
                    f"{limit // 1024 // 1024} MB，請確認選擇的是會議紀錄。"
                )
            if importer.is_pdf(head):
                # a PDF of many pages is read in the background job, page by page
                data["pdf"] = base64.b64encode(upload.read()).decode("ascii")
                data["text"] = ""
                return data
            try:
                data["text"] = importer.text_from_upload(upload.read(), upload.name)
            except importer.ImportRejected as exc:
                self.add_error("file", str(exc))
        elif not (data.get("text") or "").strip():
            raise forms.ValidationError("請貼上會議紀錄全文，或上傳 .docx／.pdf／.txt 檔案。")
        return data


class ImportHeaderForm(forms.Form):
    """The header fields of an import preview, corrected by the bureau before saving."""

    title = forms.CharField(label="會議名稱", max_length=200, help_text="不含「紀錄」二字。")
    held_on = ROCDateField(label="會議日期")
    start_time = forms.CharField(
        label="開始時間", required=False, max_length=20, help_text="例：上午 10 時、14:30"
    )
    place = forms.CharField(label="會議地點", required=False, max_length=200)
    chair = forms.CharField(label="主持人", required=False, max_length=60)
    recorder = forms.CharField(label="紀錄", required=False, max_length=60)

    @classmethod
    def of(cls, result):
        """Prefilled with what the importer read (the preview job's result)."""
        start = result.get("start_time")
        return cls(
            initial={
                "title": result.get("title") or "",
                "held_on": result.get("held_on"),
                "start_time": rocdate.format_time(start) if start else "",
                "place": result.get("place") or "",
                "chair": result.get("chair") or "",
                "recorder": result.get("recorder") or "",
            }
        )

    def clean_start_time(self):
        value = self.cleaned_data["start_time"].strip()
        if not value:
            return None
        try:
            return rocdate.parse_time(value)
        except rocdate.ROCDateError as exc:
            raise forms.ValidationError(str(exc)) from None

    def header(self):
        """As the preview job keeps it: ISO dates and times."""
        data = self.cleaned_data
        return {
            **{k: data[k] or "" for k in ("title", "place", "chair", "recorder")},
            "held_on": data["held_on"].isoformat(),
            "start_time": data["start_time"].strftime("%H:%M") if data["start_time"] else "",
        }


class ImportMoveForm(forms.Form):
    """One paragraph of an import preview moved elsewhere: the paragraph's name and the target
    must both be ones that preview showed (importer/moves.py names them)."""

    MAX_MOVES = 200  # each move replays on every later preview; more is not a fix any more

    paragraph = forms.ChoiceField(label="段落", error_messages={
        "required": "請選擇要移動的段落。",
        "invalid_choice": "找不到要移動的段落（預覽可能已更新），請重新選擇。",
    })  # fmt: skip
    to = forms.ChoiceField(label="移到", error_messages={
        "required": "請選擇要移到哪裡。",
        "invalid_choice": "找不到要移到的位置（預覽可能已更新），請重新選擇。",
    })  # fmt: skip

    def __init__(self, *args, result, moves=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.moves = list(moves)
        self.fields["paragraph"].choices = [
            (b["move"], b["text"][:20]) for b in result.get("document") or [] if b.get("move")
        ]
        self.fields["to"].choices = [tuple(t) for t in result.get("move_targets") or []]

    def clean(self):
        data = super().clean()
        if data.get("paragraph") and data.get("paragraph") == data.get("to"):
            raise forms.ValidationError("段落不能移到它自己底下。")
        if len(self.moves) >= self.MAX_MOVES:
            raise forms.ValidationError(
                f"已移動 {len(self.moves)} 次；請改正原稿後重新貼上或上傳。"
            )
        return data

    def move(self):
        return [self.cleaned_data["paragraph"], self.cleaned_data["to"]]


class HeaderForm(forms.ModelForm):
    held_on = ROCDateField(label="會議日期")
    reason = forms.CharField(
        label="更正原因", required=False, max_length=300, help_text=REASON_HELP
    )

    class Meta:
        model = Meeting
        fields = ["title", "held_on", "start_time", "adjourned_time", "place", "chair", "recorder",
                  "attendance_note", "chair_remarks", "announced"]  # fmt: skip
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "adjourned_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "chair_remarks": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.instance.pk and self.instance.is_published):
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True
            del self.fields["announced"]  # published minutes are in every calendar anyway

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}


class NewMeetingForm(HeaderForm):
    pass


class ItemTextForm(forms.Form):
    text = forms.CharField(label="內容", widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(
        label="更正原因", required=False, max_length=300, help_text=REASON_HELP
    )


class ItemAddForm(forms.Form):
    division = forms.ModelChoiceField(
        label="組別", queryset=Division.objects.all(), empty_label=None
    )
    parent = forms.TypedChoiceField(label="放在", coerce=int, required=False, empty_value=None)
    text = forms.CharField(label="內容", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "最上層（新的一項）")] + [
            (pk, f"{label} 之下") for pk, label in parents
        ]


class MotionForm(forms.ModelForm):
    reason = forms.CharField(
        label="更正原因", required=False, max_length=300, help_text=REASON_HELP
    )

    class Meta:
        model = Motion
        fields = ["kind", "subject", "explanation", "resolution", "proposer"]
        widgets = {
            "subject": forms.Textarea(attrs={"rows": 2}),
            "explanation": forms.Textarea(attrs={"rows": 2}),
            "resolution": forms.Textarea(attrs={"rows": 2}),
        }


class YearForm(forms.Form):
    """The minutes list's ?year= (民國年): a year without minutes lists nothing, one no date can
    have (before 民國 1 or after 9999) is refused."""

    year = forms.IntegerField(
        label="年度", required=False, min_value=1, max_value=9999 - rocdate.ROC_OFFSET
    )


class SearchForm(forms.Form):
    q = forms.CharField(label="搜尋會議紀錄", max_length=100, required=False,
                        help_text="例如：資安、黑快馬、OpenID；多個詞以空白分隔。")  # fmt: skip


class AttachmentPlaceMixin:
    """Where the attachment goes: the whole meeting, one report item or one motion."""

    def set_places(self, places, published):
        self.fields["place"].choices = [("meeting", "整份會議紀錄（列在散會之後）")] + list(places)
        if not published:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True


class AttachmentFileForm(AttachmentPlaceMixin, forms.Form):
    file = forms.FileField(
        label="檔案",
        help_text=(
            f"{attachment_types.ALLOWED_TEXT}，最多 {attachment_types.MAX_BYTES // 1024 // 1024}"
            " MB；系統會檢查檔案內容是否與副檔名相符。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": attachment_types.ACCEPT}),
    )
    title = forms.CharField(
        label="附件名稱", max_length=200, required=False, help_text="空白時使用檔名。"
    )
    place = forms.ChoiceField(label="附在")
    reason = forms.CharField(
        label="更正原因", required=False, max_length=300, help_text=REASON_HELP
    )

    def __init__(self, *args, places=(), published=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_places(places, published)


class LinkForm(AttachmentPlaceMixin, forms.Form):
    """A link to a row of an app built on meetings (a hooks.LinkKind: a survey of signups/),
    picked from its list. The field is named after the kind ("survey"), and so is the form's
    prefix; the page posts the kind's name as `kind` beside it."""

    title = forms.CharField(label="連結名稱", max_length=200, required=False)
    place = forms.ChoiceField(label="附在")
    reason = forms.CharField(
        label="更正原因", required=False, max_length=300, help_text=REASON_HELP
    )

    def __init__(self, *args, link_kind, places=(), published=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[link_kind.name] = forms.ModelChoiceField(
            label=link_kind.label, queryset=link_kind.choices(), empty_label="（請選擇）",
            help_text=link_kind.help_text,
        )  # fmt: skip
        self.fields["title"].help_text = f"空白時使用{link_kind.label}名稱。"
        self.order_fields([link_kind.name, "title", "place", "reason"])
        self.set_places(places, published)


class AttendanceForm(forms.Form):
    """出席學校, shown grouped by district (templates/meetings/_attendance.html)."""

    attendees = ModelIdsField(label="出席學校", queryset=School.objects.all(), required=False)
    reason = forms.CharField(
        label="更正原因", required=False, max_length=300, help_text=REASON_HELP
    )

    def __init__(self, *args, published=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not published:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True
