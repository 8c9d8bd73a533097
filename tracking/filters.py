"""The filters of the item list (django-filter): open/closed, division, year, stale, search."""

import django_filters
from django.db.models import Q

from portal.models import Division

from . import selectors
from .models import TrackedItem


def _year_choices():
    years = TrackedItem.objects.dates("opened_on", "year", order="DESC")
    return [(d.year, f"{d.year - 1911} 年") for d in years]


class TrackedItemFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label="狀態",
        choices=[("open", "列管中"), ("closed", "已解列或併案")],
        method="filter_state",
        empty_label="全部",
    )
    division = django_filters.ModelChoiceFilter(
        label="承辦", queryset=Division.objects.all(), empty_label="全部組別"
    )
    year = django_filters.ChoiceFilter(
        label="年度", choices=_year_choices, method="filter_year", empty_label="全部年度"
    )
    stale = django_filters.BooleanFilter(
        label="只看久未更新",
        method="filter_stale",
        widget=django_filters.widgets.forms.CheckboxInput,
    )
    q = django_filters.CharFilter(label="搜尋案號或案由", method="filter_search")

    class Meta:
        model = TrackedItem
        fields = []

    def __init__(self, *args, calendar=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.calendar = calendar

    def filter_state(self, qs, name, value):
        # the state the reader may see (selectors.item_list_queryset): a draft's decision is not
        if value == "open":
            return qs.filter(shown_state=TrackedItem.State.OPEN)
        if value == "closed":
            return qs.exclude(shown_state=TrackedItem.State.OPEN)
        return qs

    def filter_year(self, qs, name, value):
        return qs.filter(opened_on__year=int(value)) if value else qs

    def filter_stale(self, qs, name, value):
        if not value:
            return qs
        return qs.filter(selectors.stale_q(self.calendar))

    def filter_search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(case_no__icontains=value) | Q(subject__icontains=value))
