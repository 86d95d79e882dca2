from django.apps import AppConfig


class BonusesConfig(AppConfig):
    name = "bonuses"
