"""What the portal's formsets say: the label of each form's delete box and, in Chinese, the
refusal of a POST that claims more forms than the formset may keep. A mixin put before Django's
formset class, so plain, model and inline formsets share it."""


class ChineseFormSetMixin:
    delete_label = "刪除"
    # %(num)d is the most forms kept (max_num); Django's own message is English
    too_many = "最多 %(num)d 筆，送出的表格超過了。"

    def __init__(self, *args, error_messages=None, **kwargs):
        messages = {"too_many_forms": self.too_many, **(error_messages or {})}
        super().__init__(*args, error_messages=messages, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = self.delete_label
