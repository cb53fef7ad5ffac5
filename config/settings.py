"""Settings for the ward app, driven by environment variables.

Every value that can come from the environment is parsed here and a bad value stops
the process with ImproperlyConfigured naming the variable: a typo in production must
not silently fall back to a default.

APP_ENV selects the profile: "development" (default; the demo), "test" (pytest) or
"production" (requires SECRET_KEY and ALLOWED_HOSTS, turns on the HTTPS settings that
`manage.py check --deploy` expects).
"""

import os
import re
import sys
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
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
    "core.security_headers.SecurityHeadersMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.request_hygiene.RequestHygieneMiddleware",
    "core.middleware.SessionTimeoutMiddleware",
    "core.reauth.ReauthMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.HtmxLoginRedirectMiddleware",
    "core.pdf.PdfUnavailableMiddleware",
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
    {
        # Fragments repeated hundreds of times per page (core/jinja.py, issue 23).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "core.jinja.environment", "autoescape": True},
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
    "core.reauth.LockoutBackend",
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
# Re-authentication (signatures, overrides, password change; core.reauth): wrong passwords
# per user before they are signed out and locked out for LOGIN_COOLOFF_MINUTES.
REAUTH_FAILURE_LIMIT = env_int("REAUTH_FAILURE_LIMIT", AXES_FAILURE_LIMIT, minimum=1)

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
# The ward may shorten the protocol's 28-day "during screening" window, never lengthen
# it (issue 18: at 365 a year-old pregnancy test counted as "during screening"); 29 or
# more stops the app at start-up (screening.engine.protocols.MAX_SCREENING_WINDOW_DAYS).
SCREENING_WINDOW_DAYS = env_int("SCREENING_WINDOW_DAYS", 28, minimum=1, maximum=28)
COLD_CHAIN_WARN_HOURS = env_int("COLD_CHAIN_WARN_HOURS", 8, minimum=8, maximum=12)
COLD_CHAIN_HARD_LIMIT_HOURS = env_int("COLD_CHAIN_HARD_LIMIT_HOURS", 12, minimum=8, maximum=12)
if COLD_CHAIN_WARN_HOURS > COLD_CHAIN_HARD_LIMIT_HOURS:
    raise ImproperlyConfigured("COLD_CHAIN_WARN_HOURS must not exceed COLD_CHAIN_HARD_LIMIT_HOURS.")
BLEEDING_PLATELET_THRESHOLD = env_int("BLEEDING_PLATELET_THRESHOLD", 50, minimum=1, maximum=500)
# B-AP-1 (issue 19): below this platelet count (× 10⁹/L) no antiplatelet course is planned
# unless a second physician co-signs (C-OVR-1); never above the bleeding threshold.
ANTIPLATELET_PLATELET_FLOOR = env_int("ANTIPLATELET_PLATELET_FLOOR", 20, minimum=0, maximum=500)
if ANTIPLATELET_PLATELET_FLOOR > BLEEDING_PLATELET_THRESHOLD:
    raise ImproperlyConfigured(
        "ANTIPLATELET_PLATELET_FLOOR must not exceed BLEEDING_PLATELET_THRESHOLD."
    )
# B-IND-5 (issue 19): "older adult" from this age (老年人: 60 in the usual Chinese definition).
OLDER_ADULT_FROM_YEARS = env_int("OLDER_ADULT_FROM_YEARS", 60, minimum=50, maximum=90)
# B-CI-1 (issue 19): upper limit of a normal PASP (mmHg); above it and ≤ 70 is mild–moderate PH.
PASP_NORMAL_MAX_MMHG = env_int("PASP_NORMAL_MAX_MMHG", 35, minimum=20, maximum=69)
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

# --- Audit trail integrity (core.audit, core.audit_checkpoints) ----------------------------
# Each audit event is an HMAC-SHA256 over the previous event's hash and its content, with a
# key that lives outside the database: AUDIT_HMAC_KEYS="kid:secret,kid2:secret2" (no comma
# in a secret), AUDIT_HMAC_KEY_ID the one new events use. Keep every key an event was ever
# written with: verification needs it. Development and tests use a fixed, public key.
_AUDIT_DEV_KEYS = {"dev": "dev-only-audit-hmac-key-do-not-use-in-production-0123456789"}


def _audit_hmac_keys(raw):
    keys = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        kid, colon, secret = item.strip().partition(":")
        if not colon or not secret or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", kid):
            raise ImproperlyConfigured(
                "AUDIT_HMAC_KEYS must be comma-separated kid:secret pairs, each key id 1-32 "
                "letters, digits, '-', '_' or '.' (e.g. 2026a:<40+ random characters>)."
            )
        if kid in keys:
            raise ImproperlyConfigured(f"AUDIT_HMAC_KEYS names key id {kid!r} twice.")
        if PRODUCTION and (len(secret) < 32 or secret in _AUDIT_DEV_KEYS.values()):
            raise ImproperlyConfigured(
                f"AUDIT_HMAC_KEYS: the secret of key {kid!r} must be 32+ random characters."
            )
        keys[kid] = secret
    return keys


_audit_keys_raw = env_str("AUDIT_HMAC_KEYS", required=PRODUCTION)
AUDIT_HMAC_KEYS = _audit_hmac_keys(_audit_keys_raw) if _audit_keys_raw else dict(_AUDIT_DEV_KEYS)
if not AUDIT_HMAC_KEYS:
    raise ImproperlyConfigured("AUDIT_HMAC_KEYS holds no key.")
AUDIT_HMAC_KEY_ID = env_str(
    "AUDIT_HMAC_KEY_ID",
    next(iter(AUDIT_HMAC_KEYS)) if len(AUDIT_HMAC_KEYS) == 1 else None,
    required=len(AUDIT_HMAC_KEYS) > 1,
)
if AUDIT_HMAC_KEY_ID not in AUDIT_HMAC_KEYS:
    raise ImproperlyConfigured(
        f"AUDIT_HMAC_KEY_ID={AUDIT_HMAC_KEY_ID!r} is not a key id of AUDIT_HMAC_KEYS."
    )
# Checkpoints of the chain's head (seq, hash, time), written by beat and by every passing
# `audit_verify` to an append-only file outside PostgreSQL; verify compares the table with
# them, which is what detects a deleted tail or a truncated table.
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 10, minimum=1, maximum=1440)
# Optional: an RFC 3161 timestamp authority that countersigns each checkpoint.
AUDIT_TSA_URL = env_str("AUDIT_TSA_URL", "")
if AUDIT_TSA_URL and not AUDIT_TSA_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"AUDIT_TSA_URL={AUDIT_TSA_URL!r} must be an http(s) URL.")
AUDIT_TSA_TIMEOUT_SECONDS = env_int("AUDIT_TSA_TIMEOUT_SECONDS", 10, minimum=1, maximum=120)
# PEM file of the authority's root certificate(s): when set, each token's signature is
# verified when it is received and again by audit_verify (else only that it is ours).
AUDIT_TSA_ROOTS_FILE = env_str("AUDIT_TSA_ROOTS_FILE", "")
if AUDIT_TSA_ROOTS_FILE and not Path(AUDIT_TSA_ROOTS_FILE).is_file():
    raise ImproperlyConfigured(f"AUDIT_TSA_ROOTS_FILE={AUDIT_TSA_ROOTS_FILE!r} is not a file.")
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "core.tasks.write_audit_checkpoint",
    "schedule": float(AUDIT_CHECKPOINT_MINUTES * 60),
    "options": {"expires": float(AUDIT_CHECKPOINT_MINUTES * 60)},
}
# The full verification of the chain (every event and checkpoint), nightly at this hour
# UTC (18 = 02:00 in Asia/Shanghai); the audit browser checks only the newer events.
AUDIT_FULL_VERIFY_UTC_HOUR = env_int("AUDIT_FULL_VERIFY_UTC_HOUR", 18, minimum=0, maximum=23)
CELERY_BEAT_SCHEDULE["audit-full-verify"] = {
    "task": "core.tasks.verify_audit_chain",
    "schedule": crontab(hour=AUDIT_FULL_VERIFY_UTC_HOUR, minute=0),
    "options": {"expires": 6 * 3600.0},
}
# The software version recorded in every audit event: APP_VERSION when set, else
# `git describe` of the checkout, else the version in pyproject.toml (core/version.py).
APP_VERSION = env_str("APP_VERSION", "")

# --- Security log (core.security_log) -----------------------------------------------------
# Anonymous and pre-authentication events (CSRF failures, failed sign-ins, lockouts) are
# not clinical records: they go to their own table, rate-limited and pruned by age.
SECURITY_LOG_RETENTION_DAYS = env_int("SECURITY_LOG_RETENTION_DAYS", 90, minimum=1)
# Rows written per client address per minute; the rest are counted in one summary row.
SECURITY_LOG_PER_IP_PER_MINUTE = env_int("SECURITY_LOG_PER_IP_PER_MINUTE", 10, minimum=1)
# And across all addresses (a flood from many addresses), the same way.
SECURITY_LOG_PER_MINUTE = env_int(
    "SECURITY_LOG_PER_MINUTE", 600, minimum=SECURITY_LOG_PER_IP_PER_MINUTE
)
CELERY_BEAT_SCHEDULE["security-log-prune"] = {
    "task": "core.tasks.prune_security_log",
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}

# --- PDFs (core.pdf) ----------------------------------------------------------------------
# A hard time budget: HTML beyond this size is refused before rendering, and a render that
# takes longer is stopped (its renderer process killed) with a message, well inside
# gunicorn's 60 s worker timeout.
PDF_RENDER_TIMEOUT_SECONDS = env_int("PDF_RENDER_TIMEOUT_SECONDS", 20, minimum=1, maximum=50)
PDF_MAX_HTML_BYTES = env_int("PDF_MAX_HTML_BYTES", 1_000_000, minimum=10_000)

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
# Absolute links in e-mails and calendar events. Unset, it is derived: in production from
# the first ALLOWED_HOSTS name (https), elsewhere from PORT (scripts/run exports both PORT
# and this URL, so the links of the worker's e-mails name the port the web server uses).
REMINDER_SITE_URL = env_str("REMINDER_SITE_URL", "") or (
    f"https://{ALLOWED_HOSTS[0].lstrip('.')}"
    if PRODUCTION and ALLOWED_HOSTS and ALLOWED_HOSTS[0] != "*"
    else f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1, maximum=65535)}"
)
if not re.match(r"^https?://[^/\s]+\S*$", REMINDER_SITE_URL):
    raise ImproperlyConfigured("REMINDER_SITE_URL must be a URL such as https://ward.example.org.")
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
# C-MAR-1: how often due doses past their window are marked missed (and the physicians
# reminded); a dose is at most this late to show as missed.
DOSE_SWEEP_SECONDS = env_int("DOSE_SWEEP_SECONDS", 60, minimum=10, maximum=3600)
CELERY_BEAT_SCHEDULE["doses-sweep-missed"] = {
    "task": "infusion.tasks.sweep_missed_doses",
    "schedule": float(DOSE_SWEEP_SECONDS),
    "options": {"expires": float(DOSE_SWEEP_SECONDS)},
}
