from django.urls import include, path, re_path

from . import api, views

app_name = "vmquota"

# Two prefixes: the pages under vmquota/ and the collectors' API under api/vmquota/. Each is a
# nested include, so a request elsewhere is turned away by one prefix check, not by each pattern.
urlpatterns = [
    path(
        "vmquota/",
        include(
            [
                path("", views.index, name="index"),
                path("schools/<str:code>/", views.school, name="school"),
                path("vms/<int:pk>/", views.vm_detail, name="vm"),
                path("vms/<int:pk>/history/", views.vm_history, name="vm_history"),
                path("vms/<int:pk>/resume/", views.vm_resume, name="vm_resume"),
                path("vms/<int:pk>/assign/", views.vm_assign, name="vm_assign"),
                path("incidents/<int:pk>/", views.incident_detail, name="incident"),
                path("board/", views.board, name="board"),
                path("districts/<int:pk>/", views.district, name="district"),
                path("policy/", views.policy, name="policy"),
                path("policy/new/", views.policy_new, name="policy_new"),
                path("whatif/", views.whatif, name="whatif"),
                path("whatif/<int:pk>/", views.whatif_result, name="whatif_result"),
                path("exemptions/", views.exemptions, name="exemptions"),
                path("tokens/", views.tokens, name="tokens"),
                path("upload/", views.upload, name="upload"),
            ]
        ),
    ),
    path(
        "api/vmquota/",
        include(
            [
                path("samples", api.samples, name="api_samples"),
                path("openapi.json", api.openapi, name="api_openapi"),
                re_path(
                    r"^(?P<rest>.*)$", api.not_found, name="api_not_found"
                ),  # every answer under it is JSON
            ]
        ),
    ),
]
