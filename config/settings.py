"""Settings for the ward app, driven by environment variables.

Every value that can come from the environment is parsed here and a bad value stops
the process with ImproperlyConfigured naming the variable: a typo in production must
not silently fall back to a default.

APP_ENV selects the profile: "development" (default; the demo), "test" (pytest) or
"production" (requires SECRET_KEY and ALLOWED_HOSTS, turns on the HTTPS settings that
`manage.py check --deploy` expects).
"""

import os
import sys
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("APP_VAR_DIR", BASE_DIR / "var"))


def env_str(name, default=None, *, required=False):
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false).")


def env_int(name, default, *, minimum=None, maximum=None):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}={number} is outside {minimum}..{maximum}.")
    return number


def env_list(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Under pytest the profile defaults to "test": PostgreSQL, fast password hashing.
APP_ENV = env_str("APP_ENV", "test" if "pytest" in sys.modules else "development")
if APP_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"APP_ENV={APP_ENV!r} must be development, test or production.")
PRODUCTION = APP_ENV == "production"

DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when APP_ENV=production.")

SECRET_KEY = env_str("SECRET_KEY", required=PRODUCTION) or (
    "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghij"
)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when APP_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

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
    "axes",
    "core",
    "screening",
    "infusion",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.shell",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "core.templatetags.ward_time",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str(
    "DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/ward"
    if APP_ENV == "test"
    else f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
)
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except Exception as exc:  # dj_database_url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs web, worker and beat on one SQLite file: wait for locks, don't fail.
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["timeout"] = 20
    _db["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, sessions, lockout ------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.backends.WardModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if APP_ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60, minimum=60)
SESSION_ABSOLUTE_TIMEOUT_SECONDS = env_int(
    "SESSION_ABSOLUTE_TIMEOUT_SECONDS", 12 * 3600, minimum=SESSION_IDLE_TIMEOUT_SECONDS
)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Lockout counts per client address as the audit trail sees it (TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "core.middleware.client_ip"

# --- Internationalisation and time ------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")  # the ward's time zone
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone.")

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
if not PRODUCTION:
    WHITENOISE_USE_FINDERS = True  # serve straight from static/ without collectstatic
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
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

# --- Celery -----------------------------------------------------------------------------
# Default: kombu's filesystem transport under var/, so the demo needs no broker server.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if not CELERY_BROKER_URL.startswith(("filesystem://", "redis://", "rediss://", "memory://")):
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL={CELERY_BROKER_URL!r}: use redis://, rediss:// or filesystem://."
    )
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "broker-control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {}

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ward-app@localhost")

# --- Security ---------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Reverse proxies in front of the app that each append to X-Forwarded-For (the TLS proxy
# is one). 0: the client IP is REMOTE_ADDR. Never more than the real number: entries left
# of the proxies' own are whatever the client sent.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Ward / clinical settings ---------------------------------------------------------
# Values a ward may tune; the rule engines receive them as plain arguments.
SCREENING_WINDOW_DAYS = env_int("SCREENING_WINDOW_DAYS", 28, minimum=1, maximum=365)
COLD_CHAIN_WARN_HOURS = env_int("COLD_CHAIN_WARN_HOURS", 8, minimum=8, maximum=12)
COLD_CHAIN_HARD_LIMIT_HOURS = env_int("COLD_CHAIN_HARD_LIMIT_HOURS", 12, minimum=8, maximum=12)
if COLD_CHAIN_WARN_HOURS > COLD_CHAIN_HARD_LIMIT_HOURS:
    raise ImproperlyConfigured("COLD_CHAIN_WARN_HOURS must not exceed COLD_CHAIN_HARD_LIMIT_HOURS.")
BLEEDING_PLATELET_THRESHOLD = env_int("BLEEDING_PLATELET_THRESHOLD", 50, minimum=1, maximum=500)
PHARMACY_VERIFY_REMINDER_MINUTES = env_int("PHARMACY_VERIFY_REMINDER_MINUTES", 30, minimum=1)
REMINDER_ESCALATE_MINUTES = env_int("REMINDER_ESCALATE_MINUTES", 15, minimum=1)
# B-SITE-1: the ethics committee's approval of MSC therapy at this site, printed on the
# order sheet and the consent record.
ETHICS_APPROVAL_NUMBER = env_str("ETHICS_APPROVAL_NUMBER", "" if PRODUCTION else "DEMO-EC-2026-001")
# C-CYC-2: a cyclophosphamide hold override authorises its scheduled time; a dose recorded
# more than this many minutes earlier is refused.
CYC_OVERRIDE_TOLERANCE_MINUTES = env_int(
    "CYC_OVERRIDE_TOLERANCE_MINUTES", 60, minimum=0, maximum=240
)
# Scanned consent forms (B-CONSENT-1): private files, served only through an access check.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # never served directly; see infusion.views.consent_scan
CONSENT_SCAN_MAX_BYTES = env_int("CONSENT_SCAN_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- Logging: errors to the console, never to the page ------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; fontTools its subsetting.
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Reminders (core.reminders) -----------------------------------------------------------
# Reminders are database rows; one beat enqueues the sweeper, which claims due rows and
# hands each to a short delivery task (the exactly-once argument: core/reminders/services.py).
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 30, minimum=1, maximum=300)
REMINDER_SWEEP_BATCH = env_int("REMINDER_SWEEP_BATCH", 1000, minimum=1, maximum=50_000)
# A claimed reminder whose delivery has not finished after the lease is enqueued again (a
# lost broker message, a killed worker). The delivery task's time limit is half the lease.
REMINDER_LEASE_SECONDS = env_int("REMINDER_LEASE_SECONDS", 300, minimum=4)
REMINDER_DELIVERY_TIME_LIMIT_SECONDS = REMINDER_LEASE_SECONDS // 2
REMINDER_DELIVERY_BATCH = env_int("REMINDER_DELIVERY_BATCH", 25, minimum=1, maximum=500)
REMINDER_RETRY_SECONDS = env_int("REMINDER_RETRY_SECONDS", 60, minimum=1)  # after a failed send
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5, minimum=1)
# Delivered more than this after its due time: marked late, its text says "(late: due HH:MM)".
REMINDER_LATE_AFTER_SECONDS = env_int("REMINDER_LATE_AFTER_SECONDS", 120, minimum=0)
REMINDER_CHANNELS = env_list(
    "REMINDER_CHANNELS",
    ["core.reminders.channels.InAppChannel", "core.reminders.channels.EmailChannel"],
)
REMINDER_CALENDAR_DAYS = env_int("REMINDER_CALENDAR_DAYS", 60, minimum=1, maximum=366)
# Absolute links in e-mails and calendar events.
REMINDER_SITE_URL = env_str("REMINDER_SITE_URL", "http://127.0.0.1:8000")
# Test-only: e-mail sends sleep this long (reliability tests kill a worker mid-send).
try:
    REMINDER_TEST_DELIVERY_DELAY_SECONDS = float(
        env_str("REMINDER_TEST_DELIVERY_DELAY_SECONDS", "0")
    )
except ValueError:
    raise ImproperlyConfigured("REMINDER_TEST_DELIVERY_DELAY_SECONDS is not a number.")
if not 0 <= REMINDER_TEST_DELIVERY_DELAY_SECONDS <= 60:
    raise ImproperlyConfigured("REMINDER_TEST_DELIVERY_DELAY_SECONDS is outside 0..60.")
if PRODUCTION and REMINDER_TEST_DELIVERY_DELAY_SECONDS:
    raise ImproperlyConfigured("REMINDER_TEST_DELIVERY_DELAY_SECONDS is for tests only.")
if env_str("EMAIL_FILE_PATH"):  # for EMAIL_BACKEND=django.core.mail.backends.filebased.…
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
CELERY_BEAT_SCHEDULE["reminders-sweep"] = {
    "task": "core.tasks.sweep_reminders",
    "schedule": float(REMINDER_SWEEP_SECONDS),
    # A tick nobody ran before the next one is dropped: the next sweep covers it.
    "options": {"expires": float(REMINDER_SWEEP_SECONDS)},
}
