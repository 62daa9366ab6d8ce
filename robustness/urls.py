from django.urls import path, re_path

from robustness import views

app_name = "robustness"
KIND = r"(?P<kind>evaluations|anchor-analyses|retraining)"
urlpatterns = [
    path("robustness/", views.RunListView.as_view(), name="run-list"),
    path("robustness/systems/<int:system_pk>/", views.RunListView.as_view(), name="system-runs"),
    re_path(rf"^robustness/systems/(?P<system_pk>\d+)/{KIND}/new/$", views.RunRequestView.as_view(),
            name="run-request"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/$", views.RunDetailView.as_view(), name="run-detail"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/status/$", views.RunStatusView.as_view(), name="run-status"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/cancel/$", views.RunCancelView.as_view(), name="run-cancel"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/rerun/$", views.RunRerunView.as_view(), name="run-rerun"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/files/(?P<name>[^/]+)$", views.RunArtifactView.as_view(),
            name="run-file"),
]
