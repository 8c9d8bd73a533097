from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.health_page_ok, name="ping"),
    path("people/", views.people, name="people"),
    path("audit/", views.audit_log, name="audit_log"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>.json", views.job_status, name="job_status"),
    path("invite/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

urlpatterns += [
    path("", include("meetings.urls")),
    path("", include("tracking.urls")),
    path("", include("signups.urls")),
    path("", include("vmquota.urls")),
]

# No public /media/: uploaded files (minutes' attachments, survey imports) are served only
# through views that check portal.access.
