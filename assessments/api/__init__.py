"""The assessments REST API: viewsets by subject, their serializers, and `routes` (registered on the
router by config/api.py)."""
