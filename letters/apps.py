from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters"

    def ready(self) -> None:
        from letters.outputs.cache import rendering_version

        # Once, at start-up: the digest of the deployed rendering code and
        # assets that every stored page, PDF and Word file is keyed by.
        rendering_version()
