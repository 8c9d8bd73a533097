"""Atom feed of the latest 辦理情形 (members only: the feed is read in a logged-in browser)."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from portal import access

from .models import StatusUpdate


class UpdatesFeed(Feed):
    feed_type = Atom1Feed
    title = "列管事項辦理情形"
    subtitle = "新北市九大分區資訊組長社群：列管事項最新辦理情形"
    limit = 50

    def link(self):
        return reverse("tracking:list")

    def get_object(self, request, *args, **kwargs):
        return request.user  # the reader: the feed lists only the items they may know of

    def items(self, reader):
        return (
            StatusUpdate.objects.visible_to(reader)
            .select_related("item", "author")
            .order_by("-created_at", "-id")[: self.limit]
        )

    def item_title(self, update):
        return f"{update.item.case_no} {update.item.subject[:40]}"

    def item_description(self, update):
        # Atom's summary is type="html": readers decode it, so the text must be HTML-escaped.
        return escape(update.text)

    def item_link(self, update):
        return f"{update.item.get_absolute_url()}#update-{update.pk}"

    def item_guid(self, update):
        return f"tracking-update-{update.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, update):
        return update.created_at

    def item_updateddate(self, update):
        return update.created_at

    def item_author_name(self, update):
        return update.author.display_name if update.author else ""


updates_feed = access.role_required(UpdatesFeed())
