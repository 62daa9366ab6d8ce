"""Create the demo organisations and one user per role, and print their logins."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from governance.models import AISystem, Requirement
from governance.models.tenancy import Organisation, Role
from governance.services import (
    ai_system_create,
    applicability_propose,
    classification_record,
    control_create,
    organisation_create,
    risk_create,
    user_with_membership_ensure,
)

DEMO_USERS: list[tuple[str, Role]] = [
    ("admin", Role.ORG_ADMIN),
    ("officer", Role.RISK_OFFICER),
    ("consultant", Role.CONSULTANT),
    ("auditor", Role.AUDITOR),
]
DEMO_PASSWORD_SUFFIX = "-demo-2026"  # noqa: S105 - published demo logins, printed by the command


DEMO_SYSTEM = "Emergency-call image triage"
DEMO_CONTROL_REQUIREMENTS = ("MEASURE 2.7", "A.6.2.4", "Art 15(5)")


def demo_password(username: str) -> str:
    return f"{username}{DEMO_PASSWORD_SUFFIX}"


class Command(BaseCommand):
    help = "Create the demo organisation with one user per role (idempotent) and print the logins."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        demo = Organisation.objects.filter(slug="demo").first() or organisation_create(
            name="Demo Organisation", slug="demo", actor=None)
        client = Organisation.objects.filter(slug="northwind").first() or organisation_create(
            name="Northwind Health (client)", slug="northwind", actor=None)
        for username, role in DEMO_USERS:
            user_with_membership_ensure(organisation=demo, username=username, password=demo_password(username),
                                        role=role)
        # The consultant serves a second client and switches between the two.
        user_with_membership_ensure(organisation=client, username="consultant",
                                    password=demo_password("consultant"), role=Role.CONSULTANT)
        self._registry(demo, officer=User.objects.get(username="officer"))
        self.stdout.write("\nDemo logins (http://127.0.0.1:8000/accounts/login/):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {role.label:<22} {username:<11} password: {demo_password(username)}")
        self.stdout.write("")

    def _registry(self, demo: Organisation, *, officer: User) -> None:
        """One high-risk system with its classification, thresholds, a control and a risk (idempotent)."""
        if AISystem.objects.filter(organisation=demo, name=DEMO_SYSTEM).exists():
            return
        system = ai_system_create(organisation=demo, actor=officer, data={
            "name": DEMO_SYSTEM, "owner": officer, "business_owner": "Head of emergency services",
            "intended_purpose": "Classifies photos sent with emergency calls to help dispatchers prioritise.",
            "operator_roles": ["provider", "deployer"], "lifecycle_stage": "verification_validation",
            "deployment_context": "Dispatch centre; a dispatcher reviews every suggestion.",
            "affected_persons": "Callers and patients in emergencies.", "human_oversight": "human_in_the_loop",
            "review_frequency_days": 90,
            "robustness_thresholds": [{"attack": "screen-pgd10", "epsilon": "1/255", "min_robust_accuracy": 0.5},
                                      {"attack": "agft-pgd20", "epsilon": "4/255", "min_robust_accuracy": 0.3,
                                       "min_clean_accuracy": 0.7}]})
        classification_record(ai_system=system, actor=officer, answers={
            "operator_roles": ["provider", "deployer"], "prohibited_practices": [], "annex_i_product": False,
            "annex_iii_points": ["Annex III 5(d)"], "profiling": False, "derogation_conditions": [],
            "public_service_deployer": True, "transparency_obligations": [], "general_purpose_model": False,
            "general_purpose_model_provider": False})
        requirements = Requirement.objects.filter(ref_id__in=DEMO_CONTROL_REQUIREMENTS)
        control = control_create(organisation=demo, actor=officer, requirements=requirements, data={
            "ref_id": "CTL-ROB-01", "name": "Adversarial robustness evaluation before each release",
            "description": "Evaluate every model version against the pre-defined thresholds.", "owner": officer,
            "control_type": "technical", "status": "implemented", "review_frequency_days": 90})
        risk_create(organisation=demo, actor=officer, controls=[control], data={
            "ai_system": system, "title": "Adversarially perturbed photos mislead the triage",
            "risk_source": "B.5", "characteristic": "secure_resilient", "likelihood": 3, "impact": 5,
            "treatment": "mitigate", "treatment_plan": "Adversarial retraining; dispatcher review.",
            "residual_likelihood": 2, "residual_impact": 4, "owner": officer, "status": "treated"})
        applicability_propose(ai_system=system, actor=officer)
