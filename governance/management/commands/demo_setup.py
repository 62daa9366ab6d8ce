"""Create the demo organisations and one user per role, and print their logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from governance.models.tenancy import Organisation, Role
from governance.services import organisation_create, user_with_membership_ensure

DEMO_USERS: list[tuple[str, Role]] = [
    ("admin", Role.ORG_ADMIN),
    ("officer", Role.RISK_OFFICER),
    ("consultant", Role.CONSULTANT),
    ("auditor", Role.AUDITOR),
]
DEMO_PASSWORD_SUFFIX = "-demo-2026"


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
        self.stdout.write("\nDemo logins (http://127.0.0.1:8000/accounts/login/):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {role.label:<22} {username:<11} password: {demo_password(username)}")
        self.stdout.write("")
