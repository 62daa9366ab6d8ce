"""Settings profiles: `development` (the embedded defaults), `test` and `production`.

Each profile differs from `base` only where it must; everything else comes from the environment.
"""
