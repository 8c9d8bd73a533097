"""`{% person_name %}`: the logged-in person's name, or, while a shared page is being built for
the cache (portal/pages.py), the mark that each reader's own name replaces."""

from django import template
from django.utils.safestring import mark_safe

from portal.pages import NAME_MARK, building_shared_page

register = template.Library()


@register.simple_tag(takes_context=True)
def person_name(context):
    request = context.get("request")
    if request is not None and building_shared_page(request):
        return mark_safe(NAME_MARK)  # noqa: S308 – a constant comment, filled in escaped
    return context["user"].display_name  # escaped by simple_tag
