from django import template

from meetings import rendering

register = template.Library()


@register.filter
def linkify(text):
    """Escape, then link http(s) URLs (see rendering.linkify)."""
    return rendering.linkify(text)


@register.filter
def clock(value):
    return rendering.clock(value)
