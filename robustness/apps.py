from django.apps import AppConfig


class RobustnessConfig(AppConfig):
    name = "robustness"
    verbose_name = "Robustness lab"

    def ready(self) -> None:
        """Plug the lab's quick checks of architectures and checkpoints into governance's upload path."""
        from governance.uploads import MODEL_PRECHECKS
        from robustness.services.loading import model_precheck

        if model_precheck not in MODEL_PRECHECKS:
            MODEL_PRECHECKS.append(model_precheck)
