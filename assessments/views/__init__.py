"""Assessments web views, one module per area; every one through governance.authz.OrganisationAccessMixin."""
