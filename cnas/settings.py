"""The one settings module of the portal, read from environment variables.

Every variable has a default that works on a developer's machine, except those
that must be secret in production: with DEBUG=0, SECRET_KEY is required and the
production behaviour (secure cookies, HSTS, SSL redirect, strict hosts) is on.
The variables read here are the ones `docker-compose.yml` may set (a test checks).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789")
else:
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The portal's own address, for every link in an e-mail (cnas.links): the worker has no request, and
# behind a proxy a request's host may be the proxy's. Unset, it is the local address of `make run`'s
# port; no trailing slash. Checked by cnas.checks (an absolute http(s) address; https in production).
SITE_URL = env.str("SITE_URL", default="") or f"http://127.0.0.1:{env.str('PORT', default='') or 8000}"
SITE_URL = SITE_URL.strip().rstrip("/")
INVITATION_MAX_AGE_DAYS = 14

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",  # Django's widget templates, for the project's form renderer (TemplatesSetting)
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_celery_beat",
    "csp",
    "pgtrigger",
    "pghistory",
    "cnas",
    "accounts",
    "adhesions",
    "cos",
    "prestations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "cnas.middleware.PermissionsPolicyMiddleware",
    "cnas.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "cnas.urls"
# Every form (the allauth pages included) renders through templates/forms/: errors printed once, wired
# to their inputs (cnas.renderers).
FORM_RENDERER = "cnas.renderers.PortalFormRenderer"
WSGI_APPLICATION = "cnas.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cnas.context_processors.portal",
                "accounts.context_processors.spaces",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cnas"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "cnas.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cnas",
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:landing"
LOGOUT_REDIRECT_URL = "home"

# django-allauth: the e-mail address is the login, verified before first use.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Action sociale] "
# Security notices: a password changed or reset, a second factor switched on or off, recovery codes
# regenerated — the owner is told by e-mail, so that a stolen account does not change silently.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, written down so that they are visible and reviewed.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Portail action sociale"
# RFC 6238 §5.2: accept the code of the previous step too, so that a code typed as it changes on a
# phone (or on a clock a few seconds off) is not refused; allauth still refuses a code used twice.
MFA_TOTP_TOLERANCE = 1

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# WhiteNoise does not know the web app manifest's type.
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
# Personal and financial documents: outside of any public URL, served by views that check who asks
# (cnas.private_files), through STORAGES["private"]. On the local disk under PRIVATE_MEDIA_ROOT by default
# (one machine); in an S3-compatible bucket when PRIVATE_S3_BUCKET is set, so that web and workers on
# several machines share them (cnas.private_s3). Neither ever gives a URL.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private")))
PRIVATE_S3_BUCKET = env.str("PRIVATE_S3_BUCKET", default="")
if PRIVATE_S3_BUCKET:
    _endpoint = env.str("PRIVATE_S3_ENDPOINT_URL", default="")  # empty: AWS itself
    _s3 = {
        "bucket_name": PRIVATE_S3_BUCKET,
        "endpoint_url": _endpoint or None,
        "region_name": env.str("PRIVATE_S3_REGION", default="") or None,
        # empty: boto3's own chain (AWS_ACCESS_KEY_ID…, an instance or pod role)
        "access_key": env.str("PRIVATE_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("PRIVATE_S3_SECRET_ACCESS_KEY", default="") or None,
        "location": env.str("PRIVATE_S3_LOCATION", default="private").strip("/"),
        # most S3-compatible stores (MinIO first) want path-style addresses; AWS chooses itself
        "addressing_style": env.str("PRIVATE_S3_ADDRESSING_STYLE", default="path" if _endpoint else "") or None,
        # empty: no ACL sent, the bucket's own (private) policy applies; cnas.checks refuses a public one
        "default_acl": env.str("PRIVATE_S3_ACL", default="") or None,
        "object_parameters": {},
    }
    _encryption = env.str("PRIVATE_S3_ENCRYPTION", default="")  # "AES256" or "aws:kms"
    if _encryption:
        _s3["object_parameters"]["ServerSideEncryption"] = _encryption
        if env.str("PRIVATE_S3_KMS_KEY_ID", default=""):
            _s3["object_parameters"]["SSEKMSKeyId"] = env.str("PRIVATE_S3_KMS_KEY_ID")
    STORAGES["private"] = {"BACKEND": "cnas.private_s3.PrivateS3Storage",
                           "OPTIONS": {k: v for k, v in _s3.items() if v is not None}}
else:
    STORAGES["private"] = {"BACKEND": "cnas.private_files.PrivateStorage"}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Portail action sociale <ne-pas-repondre@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis as broker and result store; a task is acknowledged once done,
# so that a worker killed in the middle of one does not lose it.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing never waits for a broker that is down: the outbox keeps the work and the relay
# publishes it later. A message unacknowledged by a killed worker comes back after 30 minutes
# (longer than any task); long before that, the next worker to start takes the work up again
# from the outbox.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 1800, "socket_connect_timeout": 1, "socket_timeout": 5,
    # one immediate second try (a pooled connection that died with a Redis restart), no more
    "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {"task": "cnas.tasks.relay_outbox", "schedule": 30.0},
    "heartbeat": {"task": "cnas.tasks.heartbeat", "schedule": 30.0},
    "purge-finished-work": {
        "task": "cnas.tasks.purge_finished_work",
        "schedule": crontab(hour=3, minute=37),
    },
    "clear-expired-sessions": {
        "task": "cnas.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    "contribution-reminders": {
        "task": "adhesions.tasks.send_contribution_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    "instruction-digest": {
        "task": "prestations.tasks.send_instruction_digest",
        "schedule": crontab(hour=7, minute=45, day_of_week="mon-fri"),
    },
    "cos-coverage": {
        "task": "cos.tasks.sync_cos_coverage",
        "schedule": crontab(hour=1, minute=5),
    },
    "resume-unfinished-imports": {
        "task": "adhesions.tasks.resume_unfinished_imports",
        "schedule": crontab(minute="*/10"),
    },
    "refresh-indicators": {
        "task": "prestations.tasks.refresh_indicators",
        "schedule": crontab(minute="*/10"),
    },
    "resume-missing-letters": {
        "task": "prestations.tasks.resume_missing_letters",
        "schedule": crontab(minute="*/10"),
    },
    "resume-unfinished-campaigns": {
        "task": "adhesions.tasks.resume_unfinished_campaigns",
        "schedule": crontab(minute="*/10"),
        "kwargs": {"idle_minutes": 10},
    },
}

# Uploads: a document or a roster file is 10 MB at most; a larger request is refused
# from its Content-Length before anything reads it.
MAX_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_REQUEST_SIZE = MAX_UPLOAD_SIZE + 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "cnas.views.rate_limited"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every page, the admin included (django-csp): scripts only from the
# portal's own static files (a nonce for the rare template that needs one), no plugin, no
# framing by other sites. Inline style attributes are allowed; inline scripts never.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^sante/(web/)?$"]  # the container's health probe speaks plain HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

PORTAL_NAME = "CNAS"
# The national body as its documents name it: where adherents pay their contribution.
NATIONAL_BODY = {
    "name": "CNAS — Comité national d'action sociale",
    "address": "12 rue de l'Entraide, 75015 Paris",
    "siret": "31000000500176",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "AGRIFRPPXXX",
}
# What a decision letter promises: an accepted benefit is paid within this many working days.
PAYMENT_DELAY_WORKING_DAYS = env.int("PAYMENT_DELAY_WORKING_DAYS", default=10)
PORTAL_FULL_NAME = "Comité national d'action sociale pour le personnel des collectivités territoriales"
