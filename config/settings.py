"""Physiobook settings: one module, every knob from the environment.

Local default: SQLite, console email, local test-payment mode, DEBUG on.
Production: DEBUG=0 with SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL set.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """A known true/false word (any case); unset or empty gives the default. Anything else stops the
    start: a typo such as DEBUG=flase must not quietly read as False (healthchecks' envbool)."""
    value = (os.environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a yes/no value: use one of {sorted(TRUE_WORDS | FALSE_WORDS)}."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
_INSECURE_KEY = "django-insecure-local-development-only"
SECRET_KEY = env("SECRET_KEY", _INSECURE_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("DEBUG=0 needs SECRET_KEY set to a random string of 50+ characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DEBUG=0 needs ALLOWED_HOSTS.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# JSON for /api/ paths (the API promises JSON errors), Django's page elsewhere.
CSRF_FAILURE_VIEW = "config.api.csrf_failure"
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "accounts",
    "booking",
    "offers",
    "payments",
    "privacy",
    "reports",
    "outbox",
    "waitlist",
    "sms",
    "outcomes",
]

MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Refuses NUL characters and over-deep JSON before any view (ours, allauth's, the webhook).
    "config.middleware.HostileInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.observability.DatabaseUnavailableMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "booking.context_processors.clinic",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL=postgres://... switches with no other change.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Separate test databases let several checkouts run their suites side by side.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME") or None}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock at BEGIN, so two bookings
    # serialise instead of failing late with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared cache for throttles and allauth's rate limits: Redis when REDIS_URL is
# set, else the database (run `manage.py createcachetable` once), so limits hold
# across several app processes either way. Never the per-process local memory cache.
if env("REDIS_URL"):
    # config.cache: Redis down never stops a page (reads miss, writes are skipped, a warning is logged).
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": env("REDIS_URL"),
            "OPTIONS": {
                "socket_connect_timeout": float(env("REDIS_TIMEOUT", "0.5")),
                "socket_timeout": float(env("REDIS_TIMEOUT", "0.5")),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "physiobook_cache"}}

AUTH_USER_MODEL = "accounts.User"

# Cache computed availability for patients' reads (booking/slot_cache.py). On by
# default only with Redis: the database cache would cost more than it saves.
SLOT_CACHE = env_bool("SLOT_CACHE", bool(env("REDIS_URL")))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's and allauth's backends, loading the user with their roles in one query (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
# Django's database sessions, each read by one statement written once at start-up (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app folders in development and tests (no collectstatic).
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # STATIC_COMPRESS=0 skips whitenoise's gzip/brotli copies (minutes of CPU for the API docs'
        # assets): for throwaway production-like runs (make loadtest) only.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage" if env_bool("STATIC_COMPRESS", True)
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# Email: console locally, SMTP when EMAIL_HOST is set.
# Every message goes through privacy's recording backend (a patient's export lists
# the emails sent to them), which delivers through EMAIL_DELIVERY_BACKEND.
EMAIL_BACKEND = "privacy.mail.RecordingEmailBackend"
EMAIL_DELIVERY_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if env("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Physiobook Clinic <bookings@physiobook.local>")

# django-allauth: email is the login, verified.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
# The website's signup also asks name and phone (accounts.forms); the headless API's does not.
ACCOUNT_FORMS = {"signup": "accounts.forms.PatientSignupForm"}
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
# A patient has one email address: "change email" replaces it once the new one is verified.
ACCOUNT_CHANGE_EMAIL = True
# Back to the booking being made after signing in or confirming an email (accounts.adapter).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# "Email me a sign-in code" on the log-in page: patients booked by phone have no password.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# One-time sign-in links in booking emails to patients without a password (accounts/login_links.py).
LOGIN_LINK_DAYS = env_int("LOGIN_LINK_DAYS", 14)
# allauth's rate limits (pages and the headless API alike) count in the shared cache above.
ACCOUNT_RATE_LIMITS = {
    "login": env("RATE_LOGIN", "30/m/ip"),
    "login_failed": env("RATE_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": env("RATE_SIGNUP", "20/m/ip"),
}
# Client addresses for every limit (config.throttling.client_ip, DRF, allauth) come from
# one number: how many reverse proxies stand in front of the app. 0 = REMOTE_ADDR only
# (a client-sent X-Forwarded-For is ignored); behind one nginx/Caddy/load balancer, 1.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_ONLY = False

REST_FRAMEWORK = {
    # Token first: a request carrying X-Session-Token is an app and needs no CSRF
    # token; a browser's session is checked by SessionAuthentication, CSRF enforced.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only, even for a browser: api.md promises JSON errors, never an HTML page
    # (people browse the API at /api/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Depth-limited, NaN-refusing JSON (common.hostile): 400 parse_error, never a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # DRF's own idea of the client address follows TRUSTED_PROXY_COUNT (None would trust the header).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # Read by config.throttling on every request ("N/second|minute|hour|day";
    # empty = no limit). The counters live in CACHES["default"].
    "DEFAULT_THROTTLE_RATES": {
        "offer_claim": env("THROTTLE_OFFER_CLAIM", "10/hour"),
        "offer_validate_ip": env("THROTTLE_OFFER_VALIDATE_IP", "30/hour"),
        "offer_validate_user": env("THROTTLE_OFFER_VALIDATE_USER", "20/hour"),
        "booking_create": env("THROTTLE_BOOKING_CREATE", "30/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Physiobook API",
    "DESCRIPTION": (
        "Book physiotherapy assessments at a London clinic. Times are ISO 8601 with offset, dates YYYY-MM-DD "
        "in Europe/London, money integer pence (GBP). Every error is JSON {\"detail\", \"code\"}. "
        "Authenticate with the browser session (CSRF token required) or with django-allauth's app token in "
        "X-Session-Token (sign up and log in under /_allauth/app/v1/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two models have a `status`: name each enum instead of drf-spectacular's hashed fallback.
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": ["held", "confirmed", "cancelled", "expired", "attended", "no_show"],
        "WaitlistStatusEnum": "waitlist.models.WaitlistEntry.Status",
    },
    # Served from the drf-spectacular-sidecar package: the docs work with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Stripe: unset STRIPE_SECRET_KEY = local test-payment mode (no card is charged).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE")
# Stripe calls run inside requests: give up fast (seconds), one retry at most.
STRIPE_CONNECT_TIMEOUT = float(env("STRIPE_CONNECT_TIMEOUT", "5"))
STRIPE_READ_TIMEOUT = float(env("STRIPE_READ_TIMEOUT", "15"))
# Without STRIPE_SECRET_KEY the app runs the local test-payment mode (no card is charged, a
# banner says so). With DEBUG=0 that needs ALLOW_TEST_PAYMENTS=1, so production can never take
# fake money by a forgotten key.
ALLOW_TEST_PAYMENTS = env_bool("ALLOW_TEST_PAYMENTS", False)
if not DEBUG and not STRIPE_SECRET_KEY and not ALLOW_TEST_PAYMENTS:
    raise ImproperlyConfigured(
        "DEBUG=0 needs STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET), or ALLOW_TEST_PAYMENTS=1 for a demo "
        "that takes no real money."
    )

# The clinic's booking rules.
CLINIC_NAME = env("CLINIC_NAME", "Physiobook Clinic, London")
# How patients reach the clinic: footer of every page, urgent-care page, booking and
# cancellation pages, every email, and the .ics LOCATION. The phone number is shown
# as written and dialled as its digits (a tel: link).
CLINIC_PHONE = env("CLINIC_PHONE", "020 7946 0000")
CLINIC_ADDRESS = env("CLINIC_ADDRESS", "12 Example Street, London EC1A 1AA")
CLINIC_MAP_URL = env("CLINIC_MAP_URL", "https://www.openstreetmap.org/search?query=EC1A%201AA")
# Reception may mark a patient arrived from this many minutes before the start.
ARRIVAL_WINDOW_MINUTES = env_int("ARRIVAL_WINDOW_MINUTES", 60)
BOOKING_SLOT_MINUTES = env_int("BOOKING_SLOT_MINUTES", 15)
if BOOKING_SLOT_MINUTES <= 0 or 60 % BOOKING_SLOT_MINUTES:
    # The engine's grid (booking/availability.py) relies on the step dividing the hour.
    raise ImproperlyConfigured("BOOKING_SLOT_MINUTES must divide 60 (5, 10, 15, 20, 30 or 60).")
BOOKING_MIN_NOTICE_MINUTES = env_int("BOOKING_MIN_NOTICE_MINUTES", 120)
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", 60)
# Stripe Checkout sessions expire after 30 minutes at least.
BOOKING_HOLD_MINUTES = env_int("BOOKING_HOLD_MINUTES", 30)
# How long a freed slot offered to a waitlisted patient is held before the next one is offered.
WAITLIST_OFFER_MINUTES = env_int("WAITLIST_OFFER_MINUTES", 15)

# SMS (sms/): "console" prints messages like the console email backend; "twilio" sends them.
SMS_PROVIDER = env("SMS_PROVIDER", "console")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
# Only for tests against a local fake of Twilio's REST API; leave unset.
TWILIO_API_BASE = env("TWILIO_API_BASE")
BOOKING_FREE_CANCEL_HOURS = env_int("BOOKING_FREE_CANCEL_HOURS", 24)
# Reports (issue 18): how long a built report is reused from the shared cache. 0 (the default) = never:
# the per-day summary (reports/summary.py) makes the uncached page about as cheap, and always current.
REPORTS_CACHE_SECONDS = env_int("REPORTS_CACHE_SECONDS", 0)
# Unpaid online holds one patient may keep at once (each blocks a real slot).
BOOKING_MAX_LIVE_HOLDS = env_int("BOOKING_MAX_LIVE_HOLDS", 2)

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # SECURE_COOKIES=0 only for a local production-like run over plain http (make serve, make loadtest).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (django-csp 4): our own origin only, no inline script or style
# anywhere (JS in static/js/, CSS in static/css/; the staff grid's positions come from
# /staff/grid.css classes, not style attributes). Stripe Checkout is reached by a
# redirect after a form post, which form-action must allow when Stripe is configured.
from csp.constants import NONE, SELF  # noqa: E402

_FORM_ACTION = [SELF] + (["https://checkout.stripe.com"] if STRIPE_SECRET_KEY else [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": _FORM_ACTION,
    },
}
# Features no page uses, switched off for every page (and anything injected into one).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)

# Background work (outbox app, config/celery.py). The broker defaults to REDIS_URL;
# with none, the outbox runs its work in process after commit (make demo, no worker).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", env("REDIS_URL"))
OUTBOX_INLINE = env_bool("OUTBOX_INLINE", not CELERY_BROKER_URL)
OUTBOX_RETRY_SECONDS = env_int("OUTBOX_RETRY_SECONDS", 30)  # sweep re-queues rows not done after this
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 120)  # a running row is presumed lost after this
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 12)
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 30)
OUTBOX_BROKER_BACKOFF_SECONDS = env_int("OUTBOX_BROKER_BACKOFF_SECONDS", 10)  # after a failed publish
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Fail fast when publishing to a broker that is down: the outbox row waits for the sweep.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2, "max_retries": 1}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# Replaces the cron lines of README.md when a beat process runs (Procfile). Each job expires
# rather than piling up while workers are away; each is idempotent and safe to overlap.
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "outbox.sweep", "schedule": 30.0, "options": {"expires": 30}},
    "worker-heartbeat": {"task": "outbox.heartbeat", "schedule": 30.0, "options": {"expires": 30}},
    "expire-holds": {"task": "physiobook.command", "schedule": 120.0, "args": ("expire_holds",),
                     "options": {"expires": 120}},
    "reconcile-payments": {"task": "physiobook.command", "schedule": 300.0,
                           "args": ("reconcile_payments", ["--minutes", "5"]), "options": {"expires": 300}},
    "send-reminders": {"task": "physiobook.command", "schedule": 3600.0, "args": ("send_reminders",),
                       "options": {"expires": 3600}},
    # Erased patients' kept records past their retention date (issue 18).
    "erase-due-records": {"task": "physiobook.command", "schedule": 86400.0, "args": ("erase_due_records",),
                          "options": {"expires": 3600}},
}
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)

# One JSON object per line (LOG_FORMAT=json, the default with DEBUG=0), each with the request id.
LOG_FORMAT = env("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                    "formatter": "json" if LOG_FORMAT == "json" else "text"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Error reporting: off unless SENTRY_DSN is set.
SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT") or None, release=env("SENTRY_RELEASE") or None,
        integrations=[DjangoIntegration(), CeleryIntegration()], send_default_pii=False, traces_sample_rate=0.0,
    )
