"""The robustness REST API: the run viewsets (`runs`), their serializers, and `routes` (registered on
the router by config/api.py)."""
