"""The web kit every app builds its pages and endpoints from: `views` (page bases, pagination,
`run_service`), `api` (the viewset base, the one service-error translation), `filters` (typed
query filters), `widgets` (form widgets) and `downloads` (file answers)."""
