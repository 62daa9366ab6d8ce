from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import api
from config.auth import ThrottledLoginView, admin_login
from config.health import healthz

# The admin's login goes through the same throttle as the site's (config/auth.py).
admin.site.login = admin_login  # type: ignore[method-assign]  # the throttled door replaces AdminSite.login

api_v1 = [
    path("", include(api.router.urls)),
    path("diagnostics/worker-ping/", api.WorkerPingView.as_view(), name="worker-ping"),
    path("diagnostics/worker-ping/<str:task_id>/", api.WorkerPingDetailView.as_view(), name="worker-ping-detail"),
]

handler400 = "config.errors.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("governance.urls")),
    path("", include("robustness.urls")),
    path("", include("assessments.urls")),
]
