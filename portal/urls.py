from django.contrib import admin
from django.urls import include, path

from . import setup_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.health_page_ok, name="ping"),
    path("people/", views.people, name="people"),
    path("people/invitations/", setup_views.invitations, name="invitations"),
    path(
        "people/invitations/<int:pk>/resend/",
        setup_views.invitation_resend_view,
        name="invitation_resend",
    ),
    path(
        "people/invitations/<int:pk>/revoke/",
        setup_views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("schools/import/", setup_views.schools_import_view, name="schools_import"),
    path("operations/mail-test/", setup_views.mail_test, name="mail_test"),
    path("audit/", views.audit_log, name="audit_log"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>.json", views.job_status, name="job_status"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("invite/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

# Each app under its own prefix: a request is matched against one app's patterns, not against
# every app's in turn (URL resolution was a measured part of each request; see docs/performance.md).
urlpatterns += [
    path("meetings/", include("meetings.urls")),
    path("tracking/", include("tracking.urls")),
    path("signups/", include("signups.urls")),
    path("", include("vmquota.urls")),  # two prefixes of its own: vmquota/ and api/vmquota/
]

# No public /media/: uploaded files (minutes' attachments, survey imports) are served only
# through views that check portal.access.

# Bad input is answered with a Chinese page naming the problem (portal/badinput.py).
handler400 = "portal.views.bad_request"
