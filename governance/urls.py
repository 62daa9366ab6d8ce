from django.urls import path

from governance.views import applicability, catalogs, controls_risks, members_audit, registry, switch

app_name = "governance"
urlpatterns = [
    path("organisations/switch/", switch.organisation_switch, name="organisation-switch"),
    # registry
    path("ai-systems/", registry.AISystemListView.as_view(), name="ai-system-list"),
    path("ai-systems/new/", registry.AISystemCreateView.as_view(), name="ai-system-create"),
    path("ai-systems/<int:pk>/", registry.AISystemDetailView.as_view(), name="ai-system-detail"),
    path("ai-systems/<int:pk>/edit/", registry.AISystemEditView.as_view(), name="ai-system-edit"),
    path("ai-systems/<int:pk>/delete/", registry.AISystemDeleteView.as_view(), name="ai-system-delete"),
    path("ai-systems/<int:pk>/classification/", registry.ClassificationView.as_view(), name="classification-edit"),
    path("ai-systems/<int:pk>/versions/new/", registry.ModelVersionCreateView.as_view(),
         name="model-version-create"),
    path("model-versions/<int:pk>/", registry.ModelVersionDetailView.as_view(), name="model-version-detail"),
    path("model-versions/<int:pk>/edit/", registry.ModelVersionEditView.as_view(), name="model-version-edit"),
    path("model-versions/<int:pk>/delete/", registry.ModelVersionDeleteView.as_view(), name="model-version-delete"),
    path("model-versions/<int:pk>/training-card/", registry.TrainingCardView.as_view(), name="training-card-edit"),
    path("datasets/", registry.DatasetListView.as_view(), name="dataset-list"),
    path("datasets/new/", registry.DatasetCreateView.as_view(), name="dataset-create"),
    path("datasets/<int:pk>/", registry.DatasetDetailView.as_view(), name="dataset-detail"),
    path("datasets/<int:pk>/delete/", registry.DatasetDeleteView.as_view(), name="dataset-delete"),
    # applicability
    path("ai-systems/<int:pk>/applicability/", applicability.StatementOfApplicabilityView.as_view(), name="soa"),
    path("ai-systems/<int:pk>/applicability/propose/", applicability.ProposeView.as_view(), name="soa-propose"),
    path("ai-systems/<int:pk>/applicability/confirm/", applicability.ConfirmAllView.as_view(),
         name="soa-confirm-all"),
    path("applicability/<int:pk>/", applicability.DecisionView.as_view(), name="decision-edit"),
    # catalogs
    path("frameworks/", catalogs.FrameworkListView.as_view(), name="framework-list"),
    path("frameworks/<slug:slug>/", catalogs.FrameworkDetailView.as_view(), name="framework-detail"),
    path("requirements/<int:pk>/", catalogs.RequirementDetailView.as_view(), name="requirement-detail"),
    # controls and risks
    path("controls/", controls_risks.ControlListView.as_view(), name="control-list"),
    path("controls/new/", controls_risks.ControlCreateView.as_view(), name="control-create"),
    path("controls/<int:pk>/", controls_risks.ControlDetailView.as_view(), name="control-detail"),
    path("controls/<int:pk>/edit/", controls_risks.ControlEditView.as_view(), name="control-edit"),
    path("controls/<int:pk>/delete/", controls_risks.ControlDeleteView.as_view(), name="control-delete"),
    path("risks/", controls_risks.RiskListView.as_view(), name="risk-list"),
    path("risks/new/", controls_risks.RiskCreateView.as_view(), name="risk-create"),
    path("risks/matrix/", controls_risks.RiskMatrixView.as_view(), name="risk-matrix-edit"),
    path("risks/<int:pk>/", controls_risks.RiskDetailView.as_view(), name="risk-detail"),
    path("risks/<int:pk>/edit/", controls_risks.RiskEditView.as_view(), name="risk-edit"),
    path("risks/<int:pk>/delete/", controls_risks.RiskDeleteView.as_view(), name="risk-delete"),
    # members and audit trail
    path("members/", members_audit.MemberListView.as_view(), name="member-list"),
    path("members/add/", members_audit.MemberAddView.as_view(), name="member-add"),
    path("members/<int:pk>/role/", members_audit.MemberRoleView.as_view(), name="member-role"),
    path("members/<int:pk>/remove/", members_audit.MemberRemoveView.as_view(), name="member-remove"),
    path("audit-trail/", members_audit.AuditTrailView.as_view(), name="audit-list"),
]
