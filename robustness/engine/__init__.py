"""The robustness lab: pure PyTorch, no Django (see ARCHITECTURE.md)."""
