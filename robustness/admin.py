from django.contrib import admin

from robustness.models import AnchorAnalysis, EvaluationRun, EvaluationShard, RetrainingRun, RobustnessAlert


@admin.register(EvaluationRun, AnchorAnalysis, RetrainingRun)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "organisation", "ai_system", "model_version", "status", "progress", "attempt", "created_at")
    list_filter = ("status",)
    readonly_fields = ("lease_expires_at", "attempt", "worker", "heartbeat_at")


admin.site.register(EvaluationShard)
admin.site.register(RobustnessAlert)
