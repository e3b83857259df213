"""The production settings plus the benchmark's own view: `DJANGO_SETTINGS_MODULE=bench.settings`."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
