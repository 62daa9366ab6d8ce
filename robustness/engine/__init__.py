"""The robustness lab: pure PyTorch, no Django (see docs/architecture.md)."""
