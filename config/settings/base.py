"""Settings shared by every environment. Only config.env reads the process environment."""

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from config.env import env
from config.services import broker_settings, database_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = False
ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "axes",  # failed logins: throttling and lockout (the security settings below)
    "django_htmx",  # request.htmx: risk_registry/web/htmx.py picks page or partial with it
    "config.apps.SecurityConfig",  # connects config/security.py's login signal
    # Bottom to top: the layers of docs/architecture.md (import-linter keeps them: pyproject.toml).
    "risk_registry.organisation",
    "positions",
    "risk_registry",
    "controls",
    "risk_registry.documents",
    "integrity_warnings",  # the folder warnings/, see config/__init__.py
    "assessments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",  # early: every response passes through it
    "config.security.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "risk_registry.web.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "risk_registry.web.middleware.NulByteMiddleware",  # after auth: its 400 page shows the user's menu
    "risk_registry.web.middleware.FreshBadgeMiddleware",  # after auth: a write drops the kept inbox badge
    "config.security.SessionLimitsMiddleware",  # before LoginRequired: an ended session is sent to log in
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it answers a locked-out login
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "risk_registry.web.context_processors.navigation",
                "integrity_warnings.web.context_processors.warnings_navigation",
            ],
        },
    },
]

# Django's form renderer with its commonest widget templates drawn in Python (the filter bars of the
# lists: risk_registry/web/renderer.py)
FORM_RENDERER = "risk_registry.web.renderer.QuickWidgets"

DATABASES = {"default": database_settings(env.url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password check
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-guardian: no anonymous user row; object permissions are for signed-in post holders only.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# E-mail: SMTP when EMAIL_HOST is set, otherwise the console (make run needs no mail server).
EMAIL_HOST = env.string("EMAIL_HOST", default="")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env.integer("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", default="risk-registry@localhost")

# Celery: Redis when REDIS_URL is set, otherwise a folder-based broker that needs no server.
_broker = broker_settings(
    env.url("REDIS_URL", default="", schemes=("redis", "rediss")) or None,
    env.string("RISK_REGISTRY_BROKER_DIR", default=str(VAR_DIR / "broker")),
)
CELERY_BROKER_URL = _broker.url
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.transport_options
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task whose process died (kill -9, the OOM killer) goes back to the queue instead of being
# acknowledged as done; the job's claim counts attempts, so a job that kills its worker every time
# fails after EXPORT_MAX_ATTEMPTS instead of looping.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Task modules outside an app's own tasks.py (autodiscovery finds those).
CELERY_IMPORTS = ["risk_registry.workflow.tasks"]
CELERY_BEAT_SCHEDULE = {
    "scheduler-heartbeat": {"task": "risk_registry.organisation.tasks.scheduler_heartbeat", "schedule": 60.0},
    # One short, idempotent scan of the deadlines in PostgreSQL (assessments/tasks.py); never ETA tasks.
    "deadline-scan": {"task": "assessments.tasks.deadline_scan", "schedule": 300.0},
    # Registers whose public notice has ended are issued (risk_registry/workflow/registers.py); idempotent.
    "registers-issue-due": {"task": "risk_registry.workflow.tasks.registers_issue_due", "schedule": 3600.0},
    # Export jobs whose worker died or whose message was lost are sent again or failed (documents/services.py).
    "export-jobs-sweep": {"task": "risk_registry.documents.tasks.export_jobs_sweep", "schedule": 60.0},
    # Old exports and unconfirmed uploads are removed from var/exports (documents/housekeeping.py).
    "documents-housekeeping": {"task": "risk_registry.documents.tasks.documents_housekeeping", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

# Product settings: the RISK_REGISTRY_ prefix; config/tests/test_settings.py catches misspelt names.
RISK_REGISTRY_PAGE_SIZE = 50
RISK_REGISTRY_COUNT_LIMIT = 1000
# The annual cycle (assessments): the default schedule of reminders and escalation of a new cycle,
# e-mail claims older than this are taken to be lost (a worker died mid-send) and sent again,
# and a running cycle's tasks are regenerated (new holders, new controls) this often.
RISK_REGISTRY_CYCLE_REMINDER_DAYS = (7, 1)
RISK_REGISTRY_CYCLE_SUPERVISOR_AFTER_DAYS = 1
RISK_REGISTRY_CYCLE_DISCIPLINE_AFTER_DAYS = 7
RISK_REGISTRY_CYCLE_REGENERATE_HOURS = 24
# A cycle launched after some of its deadlines (confirmed) counts no task as due for this many days.
RISK_REGISTRY_CYCLE_LATE_GRACE_DAYS = 14
# Unit assessment evidence files: stored outside the web root, at most this size each.
RISK_REGISTRY_EVIDENCE_DIR = VAR_DIR / "evidence"
RISK_REGISTRY_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
RISK_REGISTRY_EMAIL_CLAIM_MINUTES = 15
# The deadline scan sends each person one digest per kind of stage (reminder, supervision, report)
# and scan; a digest lists at most this many tasks, most urgent first, and counts them all.
RISK_REGISTRY_DIGEST_TASKS = 50
# Anonymous surveys (docs/surveys.md): a group with fewer valid answers shows no figures; an
# address that sends this many unknown codes within the window gets only the "try later" page.
RISK_REGISTRY_SURVEY_MIN_GROUP = 5
RISK_REGISTRY_SURVEY_FAILED_CODES = 10
RISK_REGISTRY_SURVEY_FAILED_WINDOW_MINUTES = 60
# A post's risk profile (assessments/post_risk.py): the weights of its three measures by default.
RISK_REGISTRY_POST_PROFILE_WEIGHTS = {"moral": 1, "control": 1, "environment": 1}
# Files attached to the reports of warning notices: outside the web root, served by a view only
RISK_REGISTRY_WARNING_FILES_DIR = env.string("RISK_REGISTRY_WARNING_FILES_DIR", default=str(VAR_DIR / "warning-files"))
RISK_REGISTRY_WARNING_FILE_MAX_BYTES = 10 * 1024 * 1024
RISK_REGISTRY_WARNING_FILES_PER_REPORT = 10
# Background exports (docs/documents.md, "Background exports"): a running job stamps its heartbeat
# this often; one silent for STALE seconds is taken to be dead and sent again, at most MAX_ATTEMPTS
# starts in all; a waiting job not started within REQUEUE minutes is sent again, and fails after
# GIVE_UP hours; a job running longer than TIME_LIMIT seconds is stopped (below Redis's visibility
# timeout, so a live job is never delivered twice). The job page says the workers are silent when
# the scheduler heartbeat is older than WORKERS_SILENT minutes.
RISK_REGISTRY_EXPORT_HEARTBEAT_SECONDS = 10
RISK_REGISTRY_EXPORT_STALE_SECONDS = 120
RISK_REGISTRY_EXPORT_MAX_ATTEMPTS = 3
RISK_REGISTRY_EXPORT_REQUEUE_MINUTES = 5
RISK_REGISTRY_EXPORT_GIVE_UP_HOURS = 6
RISK_REGISTRY_EXPORT_TIME_LIMIT_SECONDS = 600
RISK_REGISTRY_WORKERS_SILENT_MINUTES = 3
# The documents' own subset of Noto Serif CJK SC, built by `manage.py build_document_fonts` (make run,
# make test) from Debian's fonts-noto-cjk (risk_registry/documents/fonts.py); like staticfiles, a
# build product of the checkout.
RISK_REGISTRY_FONTS_DIR = VAR_DIR / "fonts"
# A filed version's PDF, rendered once and kept with its SHA-256 (risk_registry/documents/filed.py):
# a copy that can always be made again from the version's snapshot, so no backup needs it.
RISK_REGISTRY_FILED_DIR = env.string("RISK_REGISTRY_FILED_DIR", default=str(VAR_DIR / "filed"))
# The laid-out parts of long PDFs, kept by the SHA-256 of their HTML (risk_registry/documents/part_cache.py):
# a live register printed again lays out only the parts that changed. Removed by the housekeeping
# when unused for this many days and, least recently used first, beyond this many bytes; "" = off.
RISK_REGISTRY_PDF_PARTS_DIR = env.string("RISK_REGISTRY_PDF_PARTS_DIR", default=str(VAR_DIR / "pdf-parts"))
RISK_REGISTRY_PDF_PARTS_KEEP_DAYS = env.integer("RISK_REGISTRY_PDF_PARTS_KEEP_DAYS", default=7)
RISK_REGISTRY_PDF_PARTS_MAX_BYTES = env.integer("RISK_REGISTRY_PDF_PARTS_MAX_BYTES", default=512 * 1024 * 1024)
# Attachments of decisions (meeting minutes): outside the web root, served only through the access
# module; at most this many bytes each and this many files per decision (docs/workflow.md).
RISK_REGISTRY_ATTACHMENTS_DIR = env.string("RISK_REGISTRY_ATTACHMENTS_DIR", default=str(VAR_DIR / "attachments"))
RISK_REGISTRY_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
RISK_REGISTRY_ATTACHMENTS_PER_DECISION = 10
# Housekeeping of var/exports (docs/documents.md, "Housekeeping"): a finished export's file is kept
# this many days, an upload waiting for its confirmation this many hours.
RISK_REGISTRY_EXPORT_KEEP_DAYS = env.integer("RISK_REGISTRY_EXPORT_KEEP_DAYS", default=7)
RISK_REGISTRY_UPLOAD_KEEP_HOURS = env.integer("RISK_REGISTRY_UPLOAD_KEEP_HOURS", default=24)
# Key posts held longer than this are listed for rotation (轮岗交流) on the rotation page.
RISK_REGISTRY_ROTATION_YEARS = env.integer("RISK_REGISTRY_ROTATION_YEARS", default=5)
# The files attached to rules (制度目录): outside the web root, served only through the rule's
# pages (controls/attachments.py); at most this many bytes each.
RISK_REGISTRY_RULE_FILES_DIR = env.string("RISK_REGISTRY_RULE_FILES_DIR", default=str(VAR_DIR / "rule-files"))
RISK_REGISTRY_RULE_FILE_MAX_BYTES = 20 * 1024 * 1024

# Security (docs/operations.md, "Sign-in and sessions"). Failed logins, django-axes: a login is
# locked per account and per address, each counted on its own, after LOGIN_FAILURE_LIMIT failures
# within the cool-off; the pair (account, address) needs no rule of its own, since every failure
# of the pair is counted for the account and for the address. A failure while locked restarts
# the cool-off (axes' default). A success does not reset the counts: with per-address counting,
# one's own valid account would otherwise wipe the address's failures between guesses.
AXES_FAILURE_LIMIT = env.integer("RISK_REGISTRY_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("RISK_REGISTRY_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"  # a page in the user's language, status 429
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Behind reverse proxies REMOTE_ADDR is the proxy's: the client is the entry that the outermost
# of them appended to X-Forwarded-For (0: no proxy, REMOTE_ADDR is the client).
RISK_REGISTRY_PROXY_COUNT = env.integer("RISK_REGISTRY_PROXY_COUNT", default=0)

# Sessions end with the browser, after SESSION_IDLE_MINUTES without a request and at the latest
# SESSION_ABSOLUTE_HOURS after login (config.security.SessionLimitsMiddleware). The database row
# lives as long as the absolute limit, so a session never outlives it on the server either.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.boolean("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
RISK_REGISTRY_SESSION_IDLE_MINUTES = env.integer("RISK_REGISTRY_SESSION_IDLE_MINUTES", default=30)
RISK_REGISTRY_SESSION_ABSOLUTE_HOURS = env.integer("RISK_REGISTRY_SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = RISK_REGISTRY_SESSION_ABSOLUTE_HOURS * 3600

# Content-Security-Policy of every response (config.security.ContentSecurityPolicyMiddleware):
# scripts and styles only from our own static files, never inline; no inline style attribute
# either (colours and widths that come from data are set by static/js/app.js). Bootstrap's CSS
# draws its icons (selects, checkboxes, the menu button) as data: SVG images.
RISK_REGISTRY_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Bounds of an uploaded workbook (risk_registry/documents/workbook.py, docs/documents.md "Bounds of
# the import"): counted while the file is streamed, the file refused at the first one crossed, so
# any file up to the upload limit is refused or read in seconds and a few tens of MB.
RISK_REGISTRY_IMPORT_MAX_ROWS = 20_000  # data rows; a county bureau files hundreds
RISK_REGISTRY_IMPORT_MAX_COLUMNS = 40
RISK_REGISTRY_IMPORT_MAX_CELLS = 500_000  # <c> elements of the sheet, empty ones too (20,000 rows × 25)
RISK_REGISTRY_IMPORT_MAX_SHARED_STRINGS = 200_000  # distinct texts: a 20,000-row register has far fewer
RISK_REGISTRY_IMPORT_MAX_SHARED_TEXT = 20_000_000  # characters of all shared strings together
RISK_REGISTRY_IMPORT_MAX_STYLES = 64_000  # style entries (Excel's own limit on cell formats)
RISK_REGISTRY_IMPORT_MAX_SHEETS = 100
RISK_REGISTRY_IMPORT_MAX_CELL_TEXT = 32_767  # characters in one cell (Excel's own limit)
RISK_REGISTRY_IMPORT_MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # inflated from the zip, all parts
RISK_REGISTRY_IMPORT_MAX_ELEMENTS = 3_000_000  # XML elements of all parts
RISK_REGISTRY_IMPORT_MAX_TOKEN_BYTES = 1024 * 1024  # one tag or attribute without an event
