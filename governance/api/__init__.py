"""The governance REST API: viewsets by subject (`registry`, `management`), their serializers, and
`routes` (registered on the router by config/api.py)."""
