from django.apps import AppConfig


class RobustnessConfig(AppConfig):
    name = "robustness"
    verbose_name = "Robustness lab"
