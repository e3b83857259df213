"""The production settings plus the benchmark's own view: `DJANGO_SETTINGS_MODULE=bench.settings`."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# bench/read_load.py copies the CSV and JSON here to measure a static file of the same size.
if BENCH_STATIC_ROOT := env_str("BENCH_STATIC_ROOT"):  # noqa: F405
    WHITENOISE_ROOT = BENCH_STATIC_ROOT
