import django_filters
from django import forms

from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(label="動作", lookup_expr="startswith")
    actor = django_filters.CharFilter(
        label="操作者", field_name="actor_label", lookup_expr="icontains"
    )
    target = django_filters.CharFilter(label="對象", lookup_expr="icontains")
    since = django_filters.DateFilter(
        label="起日",
        field_name="at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label="迄日",
        field_name="at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = []
