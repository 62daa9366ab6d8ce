from django.contrib import admin

from governance.models import AuditEvent, Membership, Organisation


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

    def has_add_permission(self, request):  # noqa: ANN001,ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001,ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001,ANN201
        return False
