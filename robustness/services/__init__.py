"""The seam between rows and the engine (docs/architecture.md): requests, execution, publishing.

Import the submodules: `run_requests` (the web's write path), `evaluations`, `shards`,
`anchor_analyses`, `retraining` (worker bodies), `publishing` (into governance),
`maintenance` (lease reaper, periodic re-evaluation).
"""
