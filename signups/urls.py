from django.urls import path

from . import views

app_name = "signups"

urlpatterns = [
    path("signups/", views.survey_list, name="list"),
    path("signups/new/", views.survey_create, name="create"),
    path("signups/<int:pk>/", views.survey_detail, name="survey"),
    path("signups/<int:pk>/edit/", views.survey_edit, name="edit"),
    path("signups/<int:pk>/grid/", views.grid, name="grid"),
    path("signups/<int:pk>/rows/", views.rows, name="rows"),
    path("signups/<int:pk>/export.xlsx", views.export, name="export"),
    path("signups/<int:pk>/remind/", views.remind, name="remind"),
    path("signups/<int:pk>/schools/<int:school_pk>/", views.file, name="file"),
    path("signups/<int:pk>/schools/<int:school_pk>/import/", views.import_view, name="import"),
    path(
        "signups/<int:pk>/schools/<int:school_pk>/imports/<int:run_pk>/",
        views.import_result,
        name="import_result",
    ),  # fmt: skip
    path(
        "signups/<int:pk>/schools/<int:school_pk>/template.xlsx",
        views.template_download,
        name="template",
    ),  # fmt: skip
    path("signups/<int:pk>/schools/<int:school_pk>/return/", views.return_view, name="return"),
    path("signups/<int:pk>/schools/<int:school_pk>/reopen/", views.reopen, name="reopen"),
]
