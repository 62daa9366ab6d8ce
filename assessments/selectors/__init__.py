"""Assessments reads (`<thing>_get` / `<things>_list`): the views, API and reports ask here."""
