"""Settings for the test suite: the development settings, made fast and quiet."""

import atexit
import shutil
import tempfile
from pathlib import Path

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Tasks run at once, inside the request, so tests see the e-mail in the outbox.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Redis when bin/with-redis (make test) sets REDIS_URL; otherwise each process its own memory.
if not REDIS_URL:  # noqa: F405
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
        "pdfs": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pdfs"},
    }
# Rendered pages and rate-limit counts go to a folder of this test run (emptied
# before each test by conftest).
TEST_STATE_DIR = Path(tempfile.mkdtemp(prefix="undersigned-test-"))
atexit.register(shutil.rmtree, TEST_STATE_DIR, ignore_errors=True)
PAGE_CACHE_DIR = TEST_STATE_DIR / "pages"
RATELIMIT_FILE = TEST_STATE_DIR / "ratelimits.sqlite3"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Static files come from the finders in tests; there is no collected STATIC_ROOT.
STATIC_ROOT = None
