"""Settings for the BYOK Provider Registry, read from the environment.

Local defaults are safe for `make run`: DEBUG on, SQLite file, loopback hosts.
Production (DJANGO_DEBUG=0) refuses to start without a real secret key.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

INSECURE_DEV_SECRET_KEY = "django-insecure-local-development-only-do-not-deploy"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", INSECURE_DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == INSECURE_DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a long random value when DJANGO_DEBUG=0. "
        'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "huey.contrib.djhuey",
    "registry",
    "onboarding",
    "catalog",
    "verification",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # django-csp's; outside the input check, so that its 400 page carries the CSP too.
    "byok_site.middleware.SitePolicyMiddleware",
    # CORS preflights and JSON errors for everything under /api/ (api/middleware.py).
    "api.middleware.api_edge",
    # Before anything reads the body or repeats the URL (see byok_site/middleware.py).
    "byok_site.middleware.refuse_unusable_input",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "byok_site.middleware.keep_posts_with_the_slash",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, passed by under /api/ (byok_site/middleware.py).
    "byok_site.middleware.MessagesForPages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "byok_site.urls"
WSGI_APPLICATION = "byok_site.wsgi.application"

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
            ],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL switches to PostgreSQL.
# WAL lets readers carry on while one writer commits; IMMEDIATE takes the write lock at
# BEGIN so two writers queue on the busy timeout instead of failing with "database is locked".
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
    ),
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.config(
            conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": SQLITE_OPTIONS,
            # Persistent connections: the PRAGMAs above run once per worker, not per request.
            "CONN_MAX_AGE": int(os.environ.get("DJANGO_CONN_MAX_AGE", "600")),
            "CONN_HEALTH_CHECKS": True,
            # Tests run on a real SQLite file, not an in-memory database.
            "TEST": {
                "NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / ".test-db.sqlite3"))
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rendered fragments (cards, figures, compare table, statistics) are cached per process.
# Their keys carry the registry's version, read from the database on every request (see
# registry.models.cache_version), so no worker serves a figure older than the last write;
# the timeout only bounds what changes with the clock (the 30-day issue window).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# English only: no translation machinery on every number and string a template renders.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Admin URL fields: assume https for scheme-less input (Django 6 default).
FORMS_URLFIELD_ASSUME_HTTPS = True

# Security headers. HTTPS-only cookies and HSTS are on whenever DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Abuse limits without identity (registry/limits.py, README "Abuse limits"). Per provider
# and day: one rating and one setup report per visitor, at most NETWORK_DAILY_LIMIT of each
# per network (IPv4 address or IPv6 /64) and RANGE_DAILY_LIMIT per range (IPv4 /24, IPv6
# /48); and at most DAILY_SUBMISSION_CAP submissions of any kind per network across
# providers. A burst (BURST_MIN_SUBMISSIONS for one provider within the current and
# previous hour, and BURST_FACTOR times its usual rate) is held for review, not counted.
# TRUSTED_PROXY_COUNT says how many proxies append to X-Forwarded-For; 0 means REMOTE_ADDR
# is the client.
REGISTRY_DAILY_SUBMISSION_CAP = int(os.environ.get("REGISTRY_DAILY_SUBMISSION_CAP", "20"))
REGISTRY_NETWORK_DAILY_LIMIT = int(os.environ.get("REGISTRY_NETWORK_DAILY_LIMIT", "3"))
REGISTRY_RANGE_DAILY_LIMIT = int(os.environ.get("REGISTRY_RANGE_DAILY_LIMIT", "10"))
REGISTRY_BURST_MIN_SUBMISSIONS = int(os.environ.get("REGISTRY_BURST_MIN_SUBMISSIONS", "20"))
REGISTRY_BURST_FACTOR = float(os.environ.get("REGISTRY_BURST_FACTOR", "10"))
REGISTRY_TRUSTED_PROXY_COUNT = int(os.environ.get("REGISTRY_TRUSTED_PROXY_COUNT", "0"))

# The JSON API (api/, README "JSON API"). Reads: at most API_READS_PER_MINUTE per network
# (IPv4 address or IPv6 /64) without a token, API_TOKEN_READS_PER_MINUTE per token with
# one; a CDN may keep a read for API_CACHE_SECONDS. Writes with a token: at most its own
# daily quota (API_TOKEN_DAILY_QUOTA unless a maintainer sets another), instead of the
# per-network limits above.
API_READS_PER_MINUTE = int(os.environ.get("API_READS_PER_MINUTE", "120"))
API_TOKEN_READS_PER_MINUTE = int(os.environ.get("API_TOKEN_READS_PER_MINUTE", "600"))
API_TOKEN_DAILY_QUOTA = int(os.environ.get("API_TOKEN_DAILY_QUOTA", "1000"))
API_CACHE_SECONDS = int(os.environ.get("API_CACHE_SECONDS", "60"))

# Dotted path to a callable(request, provider, api_key) that receives the key typed in
# the setup wizard. None by default: the key is checked and discarded.
BYOK_API_KEY_RECEIVER = os.environ.get("BYOK_API_KEY_RECEIVER") or None

# One-click keys in the setup wizard (onboarding/wizard/oauth.py): providers whose sign-in
# hands the visitor a key through OAuth PKCE, by provider id. auth_url is where the visitor
# signs in; keys_url is where the code and verifier are POSTed for the key; optional:
# key_field (the answer's JSON field, "key") and timeout (seconds). Another provider with
# the same kind of flow is one more entry. README "One-click keys".
BYOK_ONE_CLICK_KEYS = {
    "openrouter": {
        "auth_url": os.environ.get("OPENROUTER_AUTH_URL", "https://openrouter.ai/auth"),
        "keys_url": os.environ.get("OPENROUTER_KEYS_URL", "https://openrouter.ai/api/v1/auth/keys"),
    },
}
BYOK_ONE_CLICK_TIMEOUT = float(os.environ.get("BYOK_ONE_CLICK_TIMEOUT", "10"))

# Models and prices (catalog): the catalogue the daily sync reads (an https URL of
# models.dev's api.json format; unset, nothing is synced), a size limit for what it reads,
# and a CA bundle to trust besides the system's (for a private mirror).
MODELS_SYNC_URL = os.environ.get("MODELS_SYNC_URL") or None
MODELS_SYNC_MAX_BYTES = int(os.environ.get("MODELS_SYNC_MAX_BYTES", str(64 * 1024 * 1024)))
MODELS_SYNC_TIMEOUT = int(os.environ.get("MODELS_SYNC_TIMEOUT", "60"))
MODELS_SYNC_CA_FILE = os.environ.get("MODELS_SYNC_CA_FILE") or None

# Background jobs (verification.tasks): huey. Its queue lives in a SQLite file of its own
# by default, so `make run` needs no other service; with more than one machine point
# HUEY_STORAGE_URL at Redis (redis://host:6379/0, needs the [redis] extra) or PostgreSQL
# (postgres://...). Never "immediate" (djhuey's default under DEBUG): the worker that
# `make run` starts beside the web server runs the jobs.
HUEY_STORAGE_URL = os.environ.get("HUEY_STORAGE_URL", "")
if HUEY_STORAGE_URL.startswith(("redis://", "rediss://")):
    HUEY_STORAGE = {"huey_class": "huey.RedisHuey", "url": HUEY_STORAGE_URL}
elif HUEY_STORAGE_URL.startswith(("postgres://", "postgresql://")):
    HUEY_STORAGE = {"huey_class": "huey.PostgresHuey", "dsn": HUEY_STORAGE_URL}
elif HUEY_STORAGE_URL == "memory://":
    # For one-off processes that enqueue nothing (the tests' subprocesses): no file at all.
    HUEY_STORAGE = {"huey_class": "huey.MemoryHuey"}
elif HUEY_STORAGE_URL.startswith("sqlite:///") or not HUEY_STORAGE_URL:
    HUEY_STORAGE = {
        "huey_class": "huey.SqliteHuey",
        "filename": HUEY_STORAGE_URL.removeprefix("sqlite://") or str(BASE_DIR / "huey.sqlite3"),
    }
else:
    raise ImproperlyConfigured(
        "HUEY_STORAGE_URL must start with redis://, rediss://, postgres:// or sqlite:///, "
        "or be memory://"
    )
HUEY = {
    "name": "byok-registry",
    "immediate": False,
    "results": False,  # jobs write their results to the database
    **HUEY_STORAGE,
    # flush_locks: a worker stopped mid-job leaves no lock that would skip its next run.
    "consumer": {"workers": 2, "worker_type": "thread", "flush_locks": True},
}

# Link and API health checks (verification.checker). The User-Agent names the site and a
# contact URL, so a provider's operators can tell who is knocking.
VERIFICATION_CONTACT_URL = os.environ.get("VERIFICATION_CONTACT_URL", "http://127.0.0.1:8000/")
VERIFICATION_CONNECT_TIMEOUT = 5.0  # seconds
VERIFICATION_READ_TIMEOUT = 10.0
VERIFICATION_HOST_DELAY = 1.0  # seconds between two requests to one host
VERIFICATION_CONCURRENCY = 8  # requests in flight at once, across all hosts
VERIFICATION_LINK_INTERVAL_HOURS = int(os.environ.get("VERIFICATION_LINK_INTERVAL_HOURS", "24"))
VERIFICATION_API_INTERVAL_MINUTES = int(os.environ.get("VERIFICATION_API_INTERVAL_MINUTES", "15"))
VERIFICATION_KEEP_DAYS = 400  # check rows kept; daily snapshots are kept for good

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "registry.secrets.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # Django's own loggers would otherwise keep their default, unfiltered handlers.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
