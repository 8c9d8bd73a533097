import django_filters
from django.db.models import Q

from . import audit
from .forms_fields import ROCDateField
from .models import AuditEvent


class ROCDateFilter(django_filters.DateFilter):
    """A date typed the ROC way (115/12/31), like every other date field of the portal."""

    field_class = ROCDateField


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(
        label="動作", choices=audit.action_choices, empty_label="全部動作"
    )
    actor = django_filters.CharFilter(label="操作者", method="by_actor")
    target = django_filters.CharFilter(label="對象", lookup_expr="icontains")
    since = ROCDateFilter(
        label="起日", field_name="at", lookup_expr="date__gte", help_text="例如 115/1/1"
    )
    until = ROCDateFilter(
        label="迄日", field_name="at", lookup_expr="date__lte", help_text="例如 115/12/31"
    )

    class Meta:
        model = AuditEvent
        fields = []

    def by_actor(self, queryset, name, value):
        """By the name people know (姓名) as well as by the account."""
        return queryset.filter(
            Q(actor_label__icontains=value) | Q(actor__full_name__icontains=value)
        )
