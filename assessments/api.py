from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Assessments viewsets join the router here."""
