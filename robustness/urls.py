from django.urls import path, re_path

from robustness.views import runs

app_name = "robustness"
KIND = r"(?P<kind>evaluations|anchor-analyses|retraining)"
urlpatterns = [
    path("robustness/", runs.RunListView.as_view(), name="run-list"),
    path("robustness/systems/<int:system_pk>/", runs.RunListView.as_view(), name="system-runs"),
    re_path(rf"^robustness/systems/(?P<system_pk>\d+)/{KIND}/new/$", runs.RunRequestView.as_view(),
            name="run-request"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/$", runs.RunDetailView.as_view(), name="run-detail"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/status/$", runs.RunStatusView.as_view(), name="run-status"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/cancel/$", runs.RunCancelView.as_view(), name="run-cancel"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/rerun/$", runs.RunRerunView.as_view(), name="run-rerun"),
    re_path(rf"^robustness/{KIND}/(?P<pk>\d+)/files/(?P<name>[^/]+)$", runs.RunArtifactView.as_view(),
            name="run-file"),
]
