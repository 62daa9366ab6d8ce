from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from governance.models import (
    AISystem,
    ApplicabilityDecision,
    AuditEvent,
    Control,
    Crosswalk,
    Dataset,
    EUAIActClassification,
    Framework,
    Membership,
    ModelVersion,
    Organisation,
    Requirement,
    Risk,
    TrainingObjectiveCard,
)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services and never edited."""

    list_display = ["organisation", "sequence", "actor_label", "action", "object_type", "object_id", "created_at"]
    list_filter = ["organisation", "action", "object_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Catalogs are loaded by `load_catalogs`; tenant rows change through the services (audited)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Framework)
class FrameworkAdmin(ReadOnlyAdmin):
    list_display = ["ref_id", "name", "edition", "publisher", "text_policy", "loaded_at"]
    search_fields = ["name", "ref_id", "urn"]


@admin.register(Requirement)
class RequirementAdmin(ReadOnlyAdmin):
    list_display = ["ref_id", "framework", "kind", "title", "assessable", "applies_from"]
    list_filter = ["framework", "kind", "assessable", "text_status"]
    search_fields = ["ref_id", "title", "text", "urn"]
    list_select_related = ["framework"]


@admin.register(Crosswalk)
class CrosswalkAdmin(ReadOnlyAdmin):
    list_display = ["source", "relationship", "target", "theme", "is_own_mapping", "citation"]
    list_filter = ["relationship", "theme", "is_own_mapping", "source_document", "source__framework",
                   "target__framework"]
    list_select_related = ["source", "target"]


@admin.register(AISystem)
class AISystemAdmin(ReadOnlyAdmin):
    list_display = ["name", "organisation", "operator_roles", "lifecycle_stage", "updated_at"]
    list_filter = ["organisation", "lifecycle_stage"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["ai_system", "version", "architecture", "status", "checkpoint_sha256", "created_at"]
    list_filter = ["organisation", "status"]


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "organisation", "status", "image_count", "sha256", "created_at"]
    list_filter = ["organisation", "status"]


for model in (EUAIActClassification, TrainingObjectiveCard, ApplicabilityDecision, Control, Risk):
    admin.site.register(model, ReadOnlyAdmin)
