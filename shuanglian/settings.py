"""Settings for shuanglian: one module, configured from the environment.

Every knob is read through a small typed helper that refuses malformed values
at start-up instead of misbehaving later.
"""

import datetime
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(_TRUE | _FALSE)}, got {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def envdate(name: str, default: str) -> datetime.date:
    raw = os.environ.get(name, default)
    try:
        return datetime.date.fromisoformat(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from None


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", False)

# The fallback key lets the demo and the tests start without configuration;
# its "django-insecure-" prefix makes `check --deploy` refuse it in production.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-demo-only-2f9c1e7a4b8d6035e1f2a9c7b4d8e6f0")

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "simple_history",
    "shuanglian",
    "accounts",
    "households",
    "pairing",
    "visits",
    "demands",
    "dashboard",
    "demo",
    # Before django_tasks_db: its db_worker command is imports' (which reclaims dead batches first).
    "imports",
    "django_tasks",
    "shuanglian.tasks_app.TasksDatabaseConfig",  # django_tasks_db, named in Chinese
    "plans",
    "evaluation",
    "reports",
    "inspections",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "shuanglian.security_headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication: the history of every change (shuanglian/lib/history.py) records request.user.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shuanglian.urls"

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
                "shuanglian.context_processors.nav",
            ],
        },
    },
]

WSGI_APPLICATION = "shuanglian.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler costs 10-50 ms on the county pages' queries and ~0.5 s on the province
    # cadre count (bench/visits.py), and wins nothing on queries of this size; `?options=` in
    # DATABASE_URL overrides this.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed logins before Django's own backend is asked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ScopedModelBackend",  # ModelBackend, loading the account's region and unit with it
]
# Password guessing: after this many failures a username, and separately an address, is locked
# for the cool-off time. An office unlocks its own users at /accounts/locked/.
AXES_FAILURE_LIMIT = envint("SHUANGLIAN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SHUANGLIAN_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# How many proxies of ours stand in front of gunicorn (the TLS proxy: 1); 0 trusts REMOTE_ADDR only.
PROXY_COUNT = envint("SHUANGLIAN_PROXY_COUNT", 0)
# Sessions end after this long without a request, and at the latest this long after logging in.
SESSION_IDLE_SECONDS = envint("SHUANGLIAN_SESSION_IDLE_MINUTES", 120) * 60
SESSION_COOKIE_AGE = envint("SHUANGLIAN_SESSION_MAX_HOURS", 12) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# TOTP second factor (django-otp): any account may bind an authenticator app at /accounts/otp/;
# with this on, office accounts (county, city, province) and superusers must, as they see whole
# counties and the province.
OTP_REQUIRED = envbool("SHUANGLIAN_OTP_REQUIRED", False)
OTP_TOTP_ISSUER = "双联系统"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
# Chinese for what Django and django-tasks leave in English (see locale/zh_Hans/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed file names once `collectstatic` has written its manifest;
# before that (demo, tests) WhiteNoise serves straight from the finders.
_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _COLLECTED
# WhiteNoise warns about a missing STATIC_ROOT when serving from the finders.
if not _COLLECTED:
    STATIC_ROOT.mkdir(exist_ok=True)

SESSION_COOKIE_SECURE = not DEBUG and envbool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool(
    "DJANGO_SSL_REDIRECT", not DEBUG
)  # off behind a TLS proxy that redirects itself
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): no inline script or style anywhere; scripts read their data
# from data- attributes or json_script. The admin needs no exception: Django 5.2's admin has no inline
# script, and django-import-export's export form (the one third-party template with an inline handler
# and style) is never shown, as ScopedExportMixin skips it (tests/test_csp.py holds both).
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    },
}
# Browser features the app never uses, refused to every origin (shuanglian/security_headers.py).
PERMISSIONS_POLICY = {feature: [] for feature in ("camera", "microphone", "geolocation", "payment", "usb")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# Background jobs (roster imports): rows in the database, run by `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# How many rows a list page shows.
PAGE_SIZE = envint("SHUANGLIAN_PAGE_SIZE", 50)
# An export of more rows than this is built in the background with progress (imports/exports.py).
EXPORT_INLINE_ROWS = envint("SHUANGLIAN_EXPORT_INLINE_ROWS", 2000)
# Province- and city-wide coverage counts aggregate every household and cadre (about a
# second at province scale); they are kept this long. Counties and below are always live.
COVERAGE_CACHE_SECONDS = envint("SHUANGLIAN_COVERAGE_CACHE_SECONDS", 300)
# The cached overview figures live in a database table, so every gunicorn worker reads the same
# figures and `manage.py warm_overviews` (cron) can count them ahead of the users. The table is made
# by `manage.py createcachetable` (scripts/demo.sh, and once per deployment after migrate).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shuanglian_cache"}
}
# Worklists: a paired household with no visit or contact in this many days is listed.
VISIT_STALE_DAYS = envint("SHUANGLIAN_VISIT_STALE_DAYS", 90)
# Inspections (inspections/flags.py): what `manage.py flag_records` takes for a sign of fabrication.
# Two diaries whose character 3-gram sets overlap this much (Jaccard, in percent) are 雷同日记; diaries
# shorter than INSPECTION_COPY_MIN_CHARS letters are boilerplate and not compared.
INSPECTION_COPY_THRESHOLD = envint("SHUANGLIAN_INSPECTION_COPY_PERCENT", 70) / 100
INSPECTION_COPY_MIN_CHARS = envint("SHUANGLIAN_INSPECTION_COPY_MIN_CHARS", 30)
# More households visited at home by one cadre in one day than this is 不可能的一天.
INSPECTION_MAX_HOUSEHOLDS_PER_DAY = envint("SHUANGLIAN_INSPECTION_MAX_HOUSEHOLDS_PER_DAY", 8)
# 集中代录: at least this many visits of at least this many cadres entered by one account, each
# within this many minutes of the one before.
INSPECTION_BULK_VISITS = envint("SHUANGLIAN_INSPECTION_BULK_VISITS", 30)
INSPECTION_BULK_CADRES = envint("SHUANGLIAN_INSPECTION_BULK_CADRES", 5)
INSPECTION_BULK_MINUTES = envint("SHUANGLIAN_INSPECTION_BULK_MINUTES", 10)
# A flagged visit is this many times as likely to be drawn for an inspection's call-back.
INSPECTION_FLAGGED_WEIGHT = envint("SHUANGLIAN_INSPECTION_FLAGGED_WEIGHT", 3)
# Evidence files of a rectification answer (inspections/evidence.py): each at most this many MB,
# at most this many per item (photos, scans as PDF, Word and Excel files).
INSPECTION_EVIDENCE_MAX_MB = envint("SHUANGLIAN_INSPECTION_EVIDENCE_MAX_MB", 10)
INSPECTION_EVIDENCE_MAX_FILES = envint("SHUANGLIAN_INSPECTION_EVIDENCE_MAX_FILES", 10)
# Where the PostgreSQL client programs are (pg_dump, pg_restore) for `manage.py backup`; empty: the
# server's own version under /usr/lib/postgresql, else PATH.
PG_BIN = os.environ.get("SHUANGLIAN_PG_BIN", "")
# The campaign began in 2012: no visit, pairing, demand, link or plan may be dated before this day
# (nor after today). Query strings are held to the same floor (shuanglian/lib/params.py).
SHUANGLIAN_DATE_FLOOR = envdate("SHUANGLIAN_DATE_FLOOR", "2012-01-01")

# Roster import (imports/): the reader runs in a child process with at most this much address
# space and CPU time (a county's roster needs about a quarter of it); past them the file is refused.
SHUANGLIAN_IMPORT_READER_MEMORY_MB = envint("SHUANGLIAN_IMPORT_READER_MEMORY_MB", 2048)
SHUANGLIAN_IMPORT_READER_SECONDS = envint("SHUANGLIAN_IMPORT_READER_SECONDS", 120)
# A batch checked or applied for longer than this is taken for dead and marked 失败
# (`manage.py reclaim_batches`, and each worker at its start), so the user can try again.
SHUANGLIAN_IMPORT_TIME_LIMIT_MINUTES = envint("SHUANGLIAN_IMPORT_TIME_LIMIT_MINUTES", 60)
# Uploaded rosters carry whole ID numbers: `manage.py purge_uploads` drops a file's content this
# many days after its upload, keeping the batch record and its report.
SHUANGLIAN_UPLOAD_RETENTION_DAYS = envint("SHUANGLIAN_UPLOAD_RETENTION_DAYS", 90)
