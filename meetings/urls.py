from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/search/", views.search, name="search"),
    path("meetings/import/", views.meeting_import, name="import"),
    path("meetings/import/<int:job_pk>/", views.import_preview, name="import_preview"),
    path("meetings/import/<int:job_pk>/save/", views.import_save, name="import_save"),
    path("meetings/new/", views.meeting_new, name="new"),
    path("meetings/subscribe/", views.subscribe, name="subscribe"),
    path("meetings/feed/<str:key>.atom", views.feed_atom, name="feed"),
    path("meetings/calendar/<str:key>.ics", views.feed_ics, name="calendar"),
    path("meetings/<int:pk>/", views.meeting_detail, name="detail"),
    path("meetings/<int:pk>/minutes.txt", views.meeting_text, name="text"),
    path("meetings/<int:pk>/minutes.docx", views.meeting_docx, name="docx"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("meetings/<int:pk>/publish/", views.meeting_publish, name="publish"),
    path("meetings/<int:pk>/attendance/", views.attendance_set, name="attendance"),
    path("meetings/<int:pk>/attachments/add/", views.attachment_add, name="attachment_add"),
    path("meetings/<int:pk>/attachments/link/", views.attachment_link, name="attachment_link"),
    path(
        "meetings/<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "meetings/<int:pk>/attachments/<int:attachment_pk>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("meetings/<int:pk>/items/add/", views.item_add, name="item_add"),
    path("meetings/<int:pk>/items/<int:item_pk>/", views.item_update, name="item_update"),
    path(
        "meetings/<int:pk>/items/<int:item_pk>/<str:action>/",
        views.item_action,
        name="item_action",
    ),
    path("meetings/<int:pk>/motions/add/", views.motion_add, name="motion_add"),
    path("meetings/<int:pk>/motions/<int:motion_pk>/", views.motion_update, name="motion_update"),
    path(
        "meetings/<int:pk>/motions/<int:motion_pk>/<str:action>/",
        views.motion_action,
        name="motion_action",
    ),
]
