from django.apps import AppConfig


class ClusterConfig(AppConfig):
    name = "cluster"
    verbose_name = "Simulated clusters"
    default_auto_field = "django.db.models.BigAutoField"
