from django.urls import include, path

from assessments.views import assessments, dashboard, engagements, evidence, findings, reports
from assessments.views.assessments import AssessmentTransitionView

app_patterns = [
    path("assessments/", assessments.AssessmentListView.as_view(), name="assessment-list"),
    path("assessments/new/", assessments.AssessmentCreateView.as_view(), name="assessment-create"),
    path("assessments/<int:pk>/", assessments.AssessmentDetailView.as_view(), name="assessment-detail"),
    path("assessments/<int:pk>/submit/", AssessmentTransitionView.for_transition("submit"), name="assessment-submit"),
    path("assessments/<int:pk>/approve/", AssessmentTransitionView.for_transition("approve"),
         name="assessment-approve"),
    path("assessments/<int:pk>/lock/", AssessmentTransitionView.for_transition("lock"), name="assessment-lock"),
    path("assessments/<int:pk>/return/", AssessmentTransitionView.for_transition("return"), name="assessment-return"),
    path("assessments/<int:pk>/export/<str:export>", assessments.AssessmentExportView.as_view(),
         name="assessment-export"),
    path("assessments/<int:pk>/report/", reports.ReportRequestView.as_view(), name="assessment-report"),
    path("results/", assessments.ResultListView.as_view(), name="result-list"),
    path("results/<int:pk>/edit/", assessments.ResultEditView.as_view(), name="result-edit"),
    path("results/<int:pk>/review/", assessments.ResultReviewView.as_view(), name="result-review"),
    path("results/<int:pk>/confirm-inference/", assessments.ResultInferenceConfirmView.as_view(),
         name="result-confirm-inference"),
    path("evidence/", evidence.EvidenceListView.as_view(), name="evidence-list"),
    path("evidence/new/", evidence.EvidenceCreateView.as_view(), name="evidence-create"),
    path("evidence/<int:pk>/", evidence.EvidenceDetailView.as_view(), name="evidence-detail"),
    path("evidence/<int:pk>/annotations/", evidence.EvidenceAnnotationCreateView.as_view(),
         name="evidence-annotation-create"),
    path("evidence/versions/<int:pk>/download/", evidence.EvidenceVersionDownloadView.as_view(),
         name="evidence-version-download"),
    path("findings/", findings.FindingListView.as_view(), name="finding-list"),
    path("findings/new/", findings.FindingCreateView.as_view(), name="finding-create"),
    path("findings/<int:pk>/", findings.FindingDetailView.as_view(), name="finding-detail"),
    path("engagements/", engagements.EngagementListView.as_view(), name="engagement-list"),
    path("engagements/new/", engagements.EngagementCreateView.as_view(), name="engagement-create"),
    path("engagements/<int:pk>/", engagements.EngagementDetailView.as_view(), name="engagement-detail"),
    path("engagements/<int:engagement_pk>/actions/new/", engagements.ActionCreateView.as_view(),
         name="action-create"),
    path("engagements/phases/<int:pk>/edit/", engagements.PhaseEditView.as_view(), name="phase-edit"),
    path("actions/", engagements.ActionListView.as_view(), name="action-list"),
    path("actions/<int:pk>/edit/", engagements.ActionEditView.as_view(), name="action-edit"),
    path("reports/", reports.ReportListView.as_view(), name="report-list"),
    path("reports/<int:pk>/", reports.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<int:pk>/download/", reports.ReportDownloadView.as_view(), name="report-download"),
    path("reports/<int:pk>/attest/", reports.ReportAttestView.as_view(), name="report-attest"),
    path("verify/", reports.VerifyView.as_view(), name="verify"),
]

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("", include((app_patterns, "assessments"), namespace="assessments")),
]
