from django.urls import path, re_path

from . import views
from .feeds import updates_feed

app_name = "tracking"

CASE = r"(?P<case_no>\d{2,3}-\d{2}-[A-Z]?\d{2,3})"

urlpatterns = [
    path("", views.item_list, name="list"),
    path("export.xlsx", views.export_xlsx, name="export"),
    path("feed/", updates_feed, name="feed"),
    path("meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:meeting_id>/", views.meeting_tables, name="meeting"),
    path("reviews/<int:pk>/decide/", views.review_decide, name="decide"),
    re_path(rf"^{CASE}/$", views.item_detail, name="item"),
    re_path(rf"^{CASE}/update/$", views.item_update, name="update"),
    re_path(rf"^{CASE}/subscribe/$", views.item_subscribe, name="subscribe"),
    re_path(rf"^{CASE}/assign/$", views.item_assign, name="assign"),
]
