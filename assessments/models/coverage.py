"""Pre-aggregated coverage: the dashboard's per-framework counts, kept exact by the services.

One row per organisation × framework × result value: how many results with that value the
organisation's *current* assessments of that framework hold (the newest assessment of each
scope — an AI system or the whole organisation — × framework). The dashboard reads these few
rows instead of counting every result, so its cost does not grow with the results. The services
that write results or open a superseding assessment adjust the rows in the same transaction
(`assessments.services.coverage`).
"""

from __future__ import annotations

from django.db import models

from assessments.models.assessments import ResultStatus
from governance.models.tenancy import TenantModel


class CoverageCount(TenantModel):
    framework = models.ForeignKey("governance.Framework", on_delete=models.CASCADE, related_name="+")
    result = models.CharField(max_length=30, choices=ResultStatus.choices)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "framework", "result"],
                                               name="one_coverage_count_per_result")]

    def __str__(self) -> str:
        return f"{self.framework_id} {self.result}: {self.count}"
