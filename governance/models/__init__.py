"""Governance models: one module per area, re-exported here for Django and the services."""

from governance.models.applicability import ApplicabilityDecision
from governance.models.audit import AuditAction, AuditEvent
from governance.models.catalog import (
    AssessmentScale,
    Crosswalk,
    Framework,
    Relationship,
    Requirement,
    TextPolicy,
    TextStatus,
)
from governance.models.controls import Control, ControlStatus, ControlType
from governance.models.jobs import JobStatus, LeasedJob
from governance.models.registry import (
    AISystem,
    ClassificationResult,
    Dataset,
    EUAIActClassification,
    HumanOversight,
    LifecycleStage,
    LossTermKind,
    ModelVersion,
    OperatorRole,
    TrainingObjectiveCard,
    ValidationStatus,
)
from governance.models.risks import Risk, RiskSource, RiskStatus, RiskTreatment, TrustworthinessCharacteristic
from governance.models.tenancy import Membership, Organisation, Role, TenantModel

__all__ = [
    "AISystem", "ApplicabilityDecision", "AssessmentScale", "AuditAction", "AuditEvent", "ClassificationResult",
    "Control",
    "ControlStatus", "ControlType", "Crosswalk", "Dataset", "EUAIActClassification", "Framework", "HumanOversight",
    "JobStatus", "LeasedJob",
    "LifecycleStage", "LossTermKind", "Membership", "ModelVersion", "OperatorRole", "Organisation", "Relationship",
    "Requirement", "Risk", "RiskSource", "RiskStatus", "RiskTreatment", "Role", "TenantModel", "TextPolicy",
    "TextStatus", "TrainingObjectiveCard", "TrustworthinessCharacteristic", "ValidationStatus",
]
