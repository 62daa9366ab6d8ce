"""DRF viewsets of the assessments app (registered on the router by `assessments.api.register`)."""
