"""Governance writes, one module per area; everything importable from `governance.services`."""

from governance.services.applicability import applicability_confirm_all, applicability_decide, applicability_propose
from governance.services.catalogs import LoadReport, catalogs_load
from governance.services.controls import control_create, control_delete, control_update
from governance.services.model_versions import (
    dataset_create,
    dataset_delete,
    dataset_validation_finish,
    model_version_create,
    model_version_delete,
    model_version_update,
    model_version_validation_finish,
    training_card_save,
)
from governance.services.registry import ai_system_create, ai_system_delete, ai_system_update, classification_record
from governance.services.risks import risk_create, risk_delete, risk_update
from governance.services.tenancy import (
    membership_add,
    membership_create,
    membership_delete,
    membership_update,
    organisation_create,
    organisation_risk_matrix_update,
    user_with_membership_ensure,
)

__all__ = [
    "LoadReport", "ai_system_create", "ai_system_delete", "ai_system_update", "applicability_confirm_all",
    "applicability_decide", "applicability_propose", "catalogs_load", "classification_record", "control_create",
    "control_delete", "control_update", "dataset_create", "dataset_delete", "dataset_validation_finish",
    "membership_add", "membership_create", "membership_delete", "membership_update", "model_version_create",
    "model_version_delete", "model_version_update", "model_version_validation_finish", "organisation_create",
    "organisation_risk_matrix_update", "risk_create", "risk_delete", "risk_update", "training_card_save",
    "user_with_membership_ensure",
]
