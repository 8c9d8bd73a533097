from django.urls import path

from . import convening_views, views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("search/", views.search, name="search"),
    path("import/", views.meeting_import, name="import"),
    path("import/<int:job_pk>/", views.import_preview, name="import_preview"),
    path("import/<int:job_pk>/save/", views.import_save, name="import_save"),
    path("import/<int:job_pk>/fix/", views.import_fix, name="import_fix"),
    path("new/", views.meeting_new, name="new"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("feed/<str:key>.atom", views.feed_atom, name="feed"),
    path("calendar/<str:key>.ics", views.feed_ics, name="calendar"),
    path("coming/", convening_views.coming, name="coming"),
    path("plan/", convening_views.plan_new, name="plan"),
    path("<int:pk>/agenda/", convening_views.agenda_page, name="agenda"),
    path("<int:pk>/agenda.docx", convening_views.agenda_docx, name="agenda_docx"),
    path("<int:pk>/agenda/reports/", convening_views.division_reports, name="division_reports"),
    path("<int:pk>/agenda/edit/", convening_views.plan_edit, name="plan_edit"),
    path("<int:pk>/agenda/notice/", convening_views.notice_publish, name="notice"),
    path("<int:pk>/agenda/cancel/", convening_views.meeting_cancel, name="cancel"),
    path("<int:pk>/agenda/minutes/", convening_views.minutes_open, name="minutes_open"),
    path("<int:pk>/proposals/", convening_views.proposal_list, name="proposals"),
    path("<int:pk>/proposals/new/", convening_views.proposal_new, name="proposal_new"),
    path("proposals/<int:pk>/", convening_views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/edit/", convening_views.proposal_edit, name="proposal_edit"),
    path("proposals/<int:pk>/<str:to>/", convening_views.proposal_move, name="proposal_move"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/minutes.txt", views.meeting_text, name="text"),
    path("<int:pk>/minutes.docx", views.meeting_docx, name="docx"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/publish/", views.meeting_publish, name="publish"),
    path("<int:pk>/attendance/", views.attendance_set, name="attendance"),
    path("<int:pk>/attachments/add/", views.attachment_add, name="attachment_add"),
    path("<int:pk>/attachments/link/", views.attachment_link, name="attachment_link"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("<int:pk>/items/add/", views.item_add, name="item_add"),
    path("<int:pk>/items/<int:item_pk>/", views.item_update, name="item_update"),
    path(
        "<int:pk>/items/<int:item_pk>/<str:action>/",
        views.item_action,
        name="item_action",
    ),
    path("<int:pk>/motions/add/", views.motion_add, name="motion_add"),
    path("<int:pk>/motions/<int:motion_pk>/", views.motion_update, name="motion_update"),
    path(
        "<int:pk>/motions/<int:motion_pk>/<str:action>/",
        views.motion_action,
        name="motion_action",
    ),
]
