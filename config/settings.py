"""
Settings for Undersigned, read from the environment.

Development needs no variable at all. Production (``DJANGO_ENV=production``)
refuses to start without ``SECRET_KEY`` and ``ALLOWED_HOSTS``. Every variable
is listed in ``.env.example``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A form refused for its missing or stale CSRF cookie: our page, in the language of the page
# the form was on (letters/views/public.py), not Django's English one.
CSRF_FAILURE_VIEW = "letters.views.public.csrf_failure"

# The public address of the site, used for links in e-mails sent outside a request.
# In development it follows the address `make run` serves on (HOST, PORT).
HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8000)
_dev_host = "127.0.0.1" if HOST in {"0.0.0.0", "::", ""} else HOST  # noqa: S104 - bind-all is no link
_dev_host = f"[{_dev_host}]" if ":" in _dev_host else _dev_host
SITE_URL = env_str(
    "SITE_URL", "http://127.0.0.1:8000" if PRODUCTION else f"http://{_dev_host}:{PORT}"
).rstrip("/")

INSTALLED_APPS = [
    # The admin site with the optional second factor (staff/site.py).
    "staff.apps.StaffAdminConfig",
    "staff.apps.StaffConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "import_export",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "signatories",
    "letters",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A letter's stored pages for visitors without a session, before sessions
    # and logins (letters/outputs/middleware.py).
    "letters.outputs.middleware.StoredPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # ?lang= on any public URL (letters/languages.py).
    "letters.languages.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its page.
    "axes.middleware.AxesMiddleware",
]

# Staff sign-in (staff/signin.py). django-axes counts failed logins per user
# name and client address (as letters.signing.clients.client_ip computes it) and locks
# that pair out for AXES_COOLOFF_HOURS; `manage.py axes_reset…` unlocks early.
AUTHENTICATION_BACKENDS = [
    "staff.signin.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "letters.signing.clients.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# A TOTP code (django-otp) on every staff login, from an authenticator app set up at /admin/2fa/.
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA")
OTP_TOTP_ISSUER = "Undersigned"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "letters.languages.context",
            ],
        },
    },
]

# SQLite by default: WAL so readers never wait for the writer, a busy timeout so
# a writer waits for the lock instead of failing, and IMMEDIATE transactions so
# a write transaction takes the lock when it starts rather than failing to
# upgrade a read lock half-way ("database is locked").
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        f"PRAGMA busy_timeout={env_int('SQLITE_BUSY_TIMEOUT', 20) * 1000};"
        "PRAGMA foreign_keys=ON"
    ),
}
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["ENGINE"] = "config.sqlite"
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend with queued writers: see config/sqlite/base.py.
            "ENGINE": "config.sqlite",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            # Each process keeps its connection (as with PostgreSQL): opening
            # one and running the PRAGMAs above cost a tenth of a signup.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared state: rate limits ("default") and rendered PDFs ("pdfs"). With
# REDIS_URL both live in Redis (Django's own backend, redis-py with hiredis),
# which every host shares; without it in database tables (`make` runs
# `createcachetable`). PDFs have their own table so that culling them can never
# reset a rate limit.
REDIS_URL = env_str("REDIS_URL")
# redis-py waits forever by default: a Redis that accepts connections but
# stops answering would hold every request (each signup counts a rate limit).
# Past this many seconds the call fails, and the callers' fallbacks (counts
# kept per process, a PDF rendered without its cache) take over.
REDIS_TIMEOUT_SECONDS = env_float("REDIS_TIMEOUT_SECONDS", 0.5)
if REDIS_URL:
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": alias,  # redis-py reads replies with hiredis when it is installed
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
        for alias in ("default", "pdfs")
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "undersigned_cache",
            # Each signer's address holds a rate-limit count for an hour. Past
            # MAX_ENTRIES (Django's default is 300) every write culls a third of the
            # live counts, which would quietly reset limits as soon as a letter
            # draws a few hundred signers an hour.
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 200_000)},
        },
        "pdfs": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "undersigned_pdf_cache",
            "OPTIONS": {"MAX_ENTRIES": env_int("PDF_CACHE_MAX_ENTRIES", 500)},
        },
    }
# Rendered PDFs in that table, in bytes as stored (letters/outputs/cache.py): the
# PDF of 11,000 names is 1.8 MB, so MAX_ENTRIES alone could let it hold 1 GB.
PDF_CACHE_MAX_BYTES = env_int("PDF_CACHE_MAX_BYTES", 512 * 1024 * 1024)

# Public pages and exports of a list (letters/outputs/cache.py): rendered once per
# state of the list into files on this host, at most PAGE_CACHE_MAX_FILES of them
# and PAGE_CACHE_MAX_BYTES in all (a 10,000-name print page is almost 2 MB).
PAGE_CACHE_DIR = Path(env_str("PAGE_CACHE_DIR") or VAR_DIR / "pages")
PAGE_CACHE_MAX_FILES = env_int("PAGE_CACHE_MAX_FILES", 2000)
PAGE_CACHE_MAX_BYTES = env_int("PAGE_CACHE_MAX_BYTES", 512 * 1024 * 1024)
# How long browsers and CDNs may keep a public page or export without asking.
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 60)
# Rate-limit counts on SQLite without Redis (letters/signing/ratelimits.py): a file of their own.
RATELIMIT_FILE = Path(env_str("RATELIMIT_FILE") or VAR_DIR / "ratelimits.sqlite3")
# What lays out the PDF of a letter and its list (letters/outputs/pdf.py): Typst
# (about a second for 10,000 names) or WeasyPrint (about 4 ms a name).
PDF_ENGINE = env_str("PDF_ENGINE") or "typst"
if PDF_ENGINE not in {"typst", "weasyprint"}:
    raise ImproperlyConfigured(f"PDF_ENGINE must be typst or weasyprint, not {PDF_ENGINE!r}")
# PDFs rendered in a request (not found in the cache) per client and minute.
PDF_RENDERS_PER_MINUTE = env_int("PDF_RENDERS_PER_MINUTE", 10)

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# A task RUNNING for longer than this lost its worker (killed, out of memory):
# `manage.py task_worker` queues it again (letters/signing/worker.py).
TASK_RUNNING_TIMEOUT_SECONDS = env_int("TASK_RUNNING_TIMEOUT_SECONDS", 600)
# When the database (or its disk) fails under `manage.py task_worker`, the
# worker closes its connections and tries again after this many seconds,
# twice as long each time it fails again, up to the ceiling
# (letters/signing/worker.py): it never exits for a database error.
TASK_WORKER_BACKOFF_FIRST_SECONDS = env_float("TASK_WORKER_BACKOFF_FIRST_SECONDS", 1.0)
TASK_WORKER_BACKOFF_MAX_SECONDS = env_float("TASK_WORKER_BACKOFF_MAX_SECONDS", 30.0)
# A message the mail server did not take (down, timing out, a 4xx answer) is
# tried again after MAIL_RETRY_FIRST_SECONDS, then twice as long each time up
# to an hour, and given up only after MAIL_RETRY_FOR_HOURS of trying
# (letters/signing/tasks.py).
MAIL_RETRY_FIRST_SECONDS = env_float("MAIL_RETRY_FIRST_SECONDS", 30.0)
MAIL_RETRY_FOR_HOURS = env_float("MAIL_RETRY_FOR_HOURS", 26.0)
for _name in ("TASK_WORKER_BACKOFF_FIRST_SECONDS", "MAIL_RETRY_FIRST_SECONDS", "MAIL_RETRY_FOR_HOURS"):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be more than 0")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The server's default zone; each letter has its own, which decides what "as of
# a day" means for it.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
# Interface languages of the public pages, chosen with ?lang= (letters/languages.py).
# The catalogues are in locale/; `make` compiles them with Debian's gettext.
LANGUAGES = [
    ("en-gb", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("ko", "한국어"),
    ("zh-hans", "简体中文"),
    ("ja", "日本語"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
# Moments written one unambiguous way: "21 Sep 2023, 14:05 KST" (config/formats).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# E-mail: printed to the console in development (readable, links whole: config/mail.py),
# SMTP from the environment in production.
EMAIL_BACKEND_PATH = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "config.mail.ConsoleEmailBackend",
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS"),
        "use_ssl": env_bool("EMAIL_USE_SSL"),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
elif EMAIL_BACKEND_PATH == "django.core.mail.backends.filebased.EmailBackend":
    # One file per message, for the reliability tests that read links from real e-mails.
    MAILERS["default"]["OPTIONS"] = {"file_path": env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Undersigned <letters@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Signing (letters/views/signup.py). Submissions per IP address and letter, as
# letters/signing/ratelimits.py reads it ("30/h", "5/10m"); the load benchmark raises it.
SIGNUP_RATE_LIMIT = env_str("SIGNUP_RATE_LIMIT", "30/h")
# Changes through a signer's page or a correction link (each a new list, new
# ETags and PDF renders), per signature and per IP address.
MANAGE_RATE_LIMIT = env_str("MANAGE_RATE_LIMIT", "10/10m")
# Wrong private-link keys (a circulating letter's ?key=) one client may try before getting 429.
PRIVATE_LINK_RATE_LIMIT = env_str("PRIVATE_LINK_RATE_LIMIT", "20/h")
# How long a confirmation link works, in seconds (a new one can be asked for).
SIGNUP_CONFIRM_MAX_AGE = env_int("SIGNUP_CONFIRM_MAX_AGE", 7 * 24 * 3600)
# Someone who knows an address could make the form mail it again and again:
# one repeated message per signature and address in this many seconds.
SIGNUP_REPEAT_MAIL_INTERVAL = env_int("SIGNUP_REPEAT_MAIL_INTERVAL", 300)
# And at most this many messages an hour to one mailbox, across every signature
# and letter (letters/signing/mailcaps.py): the form cannot be used to flood an inbox.
SIGNUP_MAIL_PER_ADDRESS = env_int("SIGNUP_MAIL_PER_ADDRESS", 3)
# Signers' IP addresses are kept only as an HMAC-SHA256 with this key, which
# lets staff see that signatures came from one address without storing it.
IP_HASH_SALT = env_str("IP_HASH_SALT") or f"ip-hash:{SECRET_KEY}"
# Behind a proxy every request comes from the proxy: name the header that holds
# the client's address (e.g. HTTP_X_REAL_IP) for the rate limit and the IP hash.
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY") or None

# Signers' private data is deleted this many days after a letter closes
# (`manage.py purge_personal_data`, letters/lifecycle/retention.py).
RETENTION_DAYS = env_int("RETENTION_DAYS", 365)

# Country names as journalists write them ("South Korea", "Taiwan").
COUNTRIES_FIRST_REPEAT = False
# django-countries names Nauru "Naoero" (in English, and wherever its catalogue has
# no translation of that name); its Korean catalogue names the Cayman Islands
# "케이맨 섬1" (locale/ko overrides that translation).
COUNTRIES_OVERRIDE = {"NR": gettext_lazy("Nauru"), "KY": gettext_lazy("Cayman Islands")}

# Staff spreadsheets (django-import-export). Formula escaping is done by our own
# resources (letters/spreadsheets/resources.py): the library's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT
# only strips a leading "=". Control characters that XLSX cannot hold become U+FFFD
# instead of failing the export.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
IMPORT_EXPORT_USE_TRANSACTIONS = True
# The staff export needs the permission "letters.export_signature" (the library
# builds the codename as f"{code}_{model}"); without this setting anyone with
# access to the signature list could export it.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# An upload waits for its confirmation in the shared cache under a random name,
# never as a file that a posted name could point elsewhere (letters/admin/imports.py).
IMPORT_EXPORT_TMP_STORAGE_CLASS = "letters.admin.imports.UploadStorage"
# Larger files are refused on the import form before they are parsed.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
# Rows: what previews, and confirms, well within gunicorn's 30 s timeout: rows are matched and
# written a batch at a time (letters/spreadsheets/batches.py); bench/import_load.py measures it.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000)
# A file in a request too large for any upload the site takes is thrown away unread
# (letters/spreadsheets/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "letters.spreadsheets.uploads.RefuseOversizedFiles",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Security. Production behind a TLS-terminating proxy sets SECURE_PROXY_SSL_HEADER.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers plain HTTP from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Requests larger than this are refused before a view sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line without e-mail addresses or signers' link tokens (config/logs.py).
    "formatters": {
        "plain": {
            "()": "config.logs.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every step of every PDF at INFO.
        "weasyprint.progress": {"level": "WARNING"},
        # django-axes announces itself at every start; lock-outs are warnings.
        "axes": {"level": "WARNING"},
        # pikepdf (joining a long list's PDF parts) announces its logger at every start.
        "pikepdf": {"level": "WARNING"},
        # runserver's request lines (`make run`) through the same redacting handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
if not PRODUCTION:
    # On the `make run` console, Django's own DEBUG-only console handler would
    # print every "django" message a second time beside the root handler's.
    LOGGING["loggers"]["django"] = {"level": env_str("LOG_LEVEL", "INFO")}
