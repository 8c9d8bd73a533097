from django.urls import path

from . import api, views

app_name = "vmquota"

urlpatterns = [
    path("vmquota/", views.index, name="index"),
    path("vmquota/schools/<str:code>/", views.school, name="school"),
    path("vmquota/vms/<int:pk>/", views.vm_detail, name="vm"),
    path("vmquota/vms/<int:pk>/resume/", views.vm_resume, name="vm_resume"),
    path("vmquota/vms/<int:pk>/assign/", views.vm_assign, name="vm_assign"),
    path("vmquota/board/", views.board, name="board"),
    path("vmquota/policy/", views.policy, name="policy"),
    path("vmquota/policy/new/", views.policy_new, name="policy_new"),
    path("vmquota/whatif/", views.whatif, name="whatif"),
    path("vmquota/whatif/<int:pk>/", views.whatif_result, name="whatif_result"),
    path("vmquota/exemptions/", views.exemptions, name="exemptions"),
    path("vmquota/tokens/", views.tokens, name="tokens"),
    path("vmquota/upload/", views.upload, name="upload"),
    path("api/vmquota/samples", api.samples, name="api_samples"),
    path("api/vmquota/openapi.json", api.openapi, name="api_openapi"),
]
