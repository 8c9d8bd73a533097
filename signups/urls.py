from django.urls import path

from . import views

app_name = "signups"

urlpatterns = [
    path("", views.survey_list, name="list"),
    path("new/", views.survey_create, name="create"),
    path("from-template/", views.survey_from_template, name="from_template"),
    path("<int:pk>/", views.survey_detail, name="survey"),
    path("<int:pk>/edit/", views.survey_edit, name="edit"),
    path("<int:pk>/columns/", views.survey_columns, name="columns"),
    path("<int:pk>/grid/", views.grid, name="grid"),
    path("<int:pk>/rows/", views.rows, name="rows"),
    path("<int:pk>/export.xlsx", views.export, name="export"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("<int:pk>/schools/<int:school_pk>/", views.file, name="file"),
    path("<int:pk>/schools/<int:school_pk>/import/", views.import_view, name="import"),
    path(
        "<int:pk>/schools/<int:school_pk>/imports/<int:run_pk>/",
        views.import_result,
        name="import_result",
    ),  # fmt: skip
    path(
        "<int:pk>/schools/<int:school_pk>/template.xlsx",
        views.template_download,
        name="template",
    ),  # fmt: skip
    path("<int:pk>/schools/<int:school_pk>/return/", views.return_view, name="return"),
    path("<int:pk>/schools/<int:school_pk>/reopen/", views.reopen, name="reopen"),
]
