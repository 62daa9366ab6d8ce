from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Robustness viewsets join the router here."""
