"""The portal's one settings module, driven by environment variables.

Every variable is documented in `.env.example`. A malformed value stops start-up with a message
naming the variable (`_env`), so a typo in production never becomes a silent default.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# PORTAL_ENV_FILE lets an operator (and the test of .env.example) name the file to read.
environ.Env.read_env(os.environ.get("PORTAL_ENV_FILE", BASE_DIR / ".env"), overwrite=False)

_EXPECTED = {
    "bool": "請用 true 或 false",
    "int": "請填整數",
    "db_url": "請填資料庫網址，例如 postgres://user@host:5432/db",
}
_BOOL_WORDS = {*env.BOOLEAN_TRUE_STRINGS, "false", "off", "no", "n", "0", ""}


def _fail(name, problem):
    raise ImproperlyConfigured(f"環境變數 {name} 設定有誤：{problem}")


def _env(parse, name, default, *, minimum=None):
    """`parse(name, default=default)` with one of django-environ's parsers (env.bool, env.int,
    env.db_url), but a value it cannot read stops start-up: env.bool reads any other word as
    false, env.db_url an unknown scheme as no database, and env.int's error does not name the
    variable."""
    raw = env.str(name, default=None)
    try:
        value = parse(name, default=default)
    except ValueError:
        value = None
    if raw is not None and (
        value in (None, {}) or (parse == env.bool and raw.strip().lower() not in _BOOL_WORDS)
    ):
        _fail(name, f"「{raw}」無法使用，{_EXPECTED[parse.__name__]}")
    if minimum is not None and value < minimum:
        _fail(name, f"不可小於 {minimum}")
    return value


DEBUG = _env(env.bool, "DJANGO_DEBUG", False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        _fail("DJANGO_SECRET_KEY", "正式環境（DJANGO_DEBUG=false）必須設定")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("PORTAL_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_filters",
    "import_export",
    "axes",
    "portal",
    "meetings",
    "tracking",
    "signups",
    "vmquota",
    "django.forms",  # its widget templates, for FORM_RENDERER below
]
# widgets render through TEMPLATES, so templates/django/forms/ may say 請選擇 for 「---------」
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

MIDDLEWARE = [
    "portal.requestlog.RequestIdMiddleware",  # first: every later log line names the request
    "portal.errorpages.ErrorPagesMiddleware",  # Chinese 404/400/500 pages with DEBUG on too
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.badinput.BadInputMiddleware",  # a NUL byte never reaches a query; pages for 405s
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.security.SessionLifetimeMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
FILTERS_EMPTY_CHOICE_LABEL = "請選擇"  # django-filter's selects (Django's own: portal/apps.py)
WSGI_APPLICATION = "portal.wsgi.application"
SITE_ID = 1

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
                "portal.context_processors.navigation",
            ],
            "builtins": ["portal.templatetags.roc"],
        },
    }
]

# SQLite under var/ by default so `make run` needs no server; PostgreSQL in compose and CI.
DATABASES = {"default": _env(env.db_url, "DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
# persistent connections, checked before each request reuses one (a restarted server)
DATABASES["default"]["CONN_MAX_AGE"] = _env(env.int, "DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, worker, beat) share one SQLite file under `make run`.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked accounts and addresses
    "django.contrib.auth.backends.ModelBackend",  # the admin's login
    "allauth.account.auth_backends.AuthenticationBackend",  # login by username or e-mail
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- django-allauth ---------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
# sign-up: for the invited address only, using the invitation up with the account (portal/forms.py)
ACCOUNT_FORMS = {"login": "portal.forms.LoginForm", "signup": "portal.forms.SignupForm"}
SOCIALACCOUNT_ADAPTER = "portal.adapters.SocialAccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never merge an OIDC identity into an account by e-mail
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_LOGIN_ON_GET = False
# Logins are limited by django-axes (5 failures → 15-minute lock, audited, in the database);
# allauth's own limits would answer first with a different message, and they live in the cache:
# with Redis away they would refuse every login.
ACCOUNT_RATE_LIMITS = {"login": False, "login_failed": False}


def _oidc_apps():
    """OpenID Connect providers exist only when their variables are set (all three of them)."""
    apps = []
    for key, label in (("EDU_CLOUD", "教育雲"), ("NTPC", "新北市 OpenID")):
        client_id = env.str(f"OIDC_{key}_CLIENT_ID", default="")
        if not client_id:
            continue
        secret = env.str(f"OIDC_{key}_SECRET", default="")
        server = env.str(f"OIDC_{key}_SERVER_URL", default="")
        if not secret:
            _fail(f"OIDC_{key}_SECRET", f"已設定 OIDC_{key}_CLIENT_ID，也必須設定密鑰")
        if not server.startswith(("https://", "http://")):
            _fail(f"OIDC_{key}_SERVER_URL", "必須是提供者的網址（https://…）")
        apps.append(
            {
                "provider_id": key.lower().replace("_", "-"),
                "name": env.str(f"OIDC_{key}_NAME", default=label),
                "client_id": client_id,
                "secret": secret,
                "settings": {"server_url": server, "oauth_pkce_enabled": True},
            }
        )
    return apps


SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "provider_class": "portal.oidc.NonceOpenIDConnectProvider",
        "SCOPE": ["openid", "profile", "email"],
        "APPS": _oidc_apps(),
    }
}
# true: the portal uses local accounts (invitations) only, on purpose; the first-run checklist
# then counts OpenID Connect as settled although no provider is set
OIDC_OFF = _env(env.bool, "PORTAL_OIDC_OFF", False)

# --- language, time --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

# --- static and media ------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# --- e-mail ------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="新北市資訊組長社群 <noreply@ntpc.edu.tw>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# An SMTP server that accepts and then hangs must not block a worker: the task fails and retries.
EMAIL_TIMEOUT = _env(env.int, "EMAIL_TIMEOUT_S", 20, minimum=1)
OPERATIONS_EMAIL = env.str("PORTAL_OPERATIONS_EMAIL", default="ops@ntpc.edu.tw")

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if "://" not in CELERY_BROKER_URL:
    _fail("CELERY_BROKER_URL", f"「{CELERY_BROKER_URL}」不是網址（例如 redis://host:6379/0）")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a broker that is only a folder, for `make run` without Redis.
    _queue_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # kombu keeps its exchange table here; left unset it writes ./control in the working folder
        "control_folder": str(_queue_dir / "control"),
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = _env(env.bool, "CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way is redelivered; every task is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis may be away for a while: a worker keeps trying to reconnect (the default gives up after
# 100 tries and exits), also when it starts during the outage. A task running when the connection
# drops finishes; its unacknowledged message comes back and finds its work claimed (or done).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Imports a person started (background jobs) have a queue of their own, so a long one never
# delays VM evaluation. Every worker consumes both (`-Q celery,imports`) or one each.
# workers log through LOGGING below (one line per event), not Celery's own multi-line handler
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ROUTES = {
    "signups.tasks.import_workbook": {"queue": "imports"},
    "meetings.tasks.import_*": {"queue": "imports"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HEARTBEAT_INTERVAL_S = _env(env.int, "PORTAL_HEARTBEAT_INTERVAL_S", 30, minimum=1)
HEARTBEAT_MAX_AGE_S = _env(env.int, "PORTAL_HEARTBEAT_MAX_AGE_S", 180, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.tasks.record_heartbeat", "schedule": HEARTBEAT_INTERVAL_S},
    "audit-purge": {"task": "portal.tasks.purge_audit_log", "schedule": 6 * 60 * 60},
    "expired-sessions": {"task": "portal.tasks.clear_expired_sessions", "schedule": 6 * 60 * 60},
    "requeue-jobs": {"task": "portal.tasks.requeue_jobs", "schedule": 60},
}
# at least 6 months
AUDIT_RETENTION_DAYS = _env(env.int, "PORTAL_AUDIT_RETENTION_DAYS", 200, minimum=183)
# Each app may declare its periodic tasks in <app>/schedule.py (BEAT_SCHEDULE, plain dicts).
for _app in ("portal", "meetings", "tracking", "signups", "vmquota"):
    if (BASE_DIR / _app / "schedule.py").exists():
        CELERY_BEAT_SCHEDULE.update(__import__(f"{_app}.schedule", fromlist=["x"]).BEAT_SCHEDULE)

CACHES = {
    "default": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "OPTIONS": {
                # Everything in the cache can be lost: with Redis away a read misses and a write
                # does nothing, so pages render and people log in (allauth's login limits, which
                # need the cache, are off: see ACCOUNT_RATE_LIMITS). /healthz shows the outage:
                # its broker is the same Redis.
                "IGNORE_EXCEPTIONS": True,
                # a Redis that hangs must not hang every page: give up after a second
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
        if env.str("REDIS_URL", default="")
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# --- security (production) ---------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if _env(env.bool, "DJANGO_BEHIND_TLS_PROXY", False)
    else None
)
SECURE_SSL_REDIRECT = _env(env.bool, "DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = _env(env.int, "DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Idle timeout: the session (server-side) expires 30 minutes after the last request; the expiry is
# moved forward at most once a minute (portal/security.py), not by saving on every request.
# Django's database sessions, each row naming its person so an admin can end their sessions.
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_AGE = _env(env.int, "PORTAL_SESSION_IDLE_S", 30 * 60, minimum=120)
PORTAL_SESSION_ABSOLUTE_S = _env(env.int, "PORTAL_SESSION_ABSOLUTE_S", 12 * 60 * 60, minimum=60)

# --- login protection (django-axes) ------------------------------------------------------
# An account is locked after 5 failures; a client address only after 50 failures across accounts
# (a school's or the bureau's whole network may share one address). axes applies one failure limit
# to every lockout parameter, so it counts the account, and portal.security's handler adds the
# address's own limit from axes' rows (docs/security.md).
AXES_FAILURE_LIMIT = _env(env.int, "PORTAL_LOGIN_FAILURE_LIMIT", 5, minimum=1)
PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = _env(
    env.int, "PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=10
)
AXES_COOLOFF_TIME = _env(env.int, "PORTAL_LOGIN_LOCK_MINUTES", 15, minimum=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_HANDLER = "portal.security.AccountAndAddressHandler"
# axes warns when ip_address is not a lockout parameter; the handler above limits the address
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# tries while locked are refused but not counted: the lock ends when the page says it does
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "portal.security.axes_username"
AXES_CLIENT_IP_CALLABLE = "portal.security.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "portal.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- Content-Security-Policy (django-csp): no inline script, no framing ---------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # one line per event with the request's id (portal/requestlog.py); "-" outside a request
    "filters": {"request_id": {"()": "portal.requestlog.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "()": "portal.requestlog.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The one request header our reverse proxy sets to the client's address (e.g. HTTP_X_REAL_IP).
# Empty: use REMOTE_ADDR and ignore every forwarded header.
PORTAL_CLIENT_IP_HEADER = env.str("PORTAL_CLIENT_IP_HEADER", default="")

# --- settings of the feature apps (each app appends its own block below) --------------------

# --- tracking ---
# Days before a meeting when each division is e-mailed its items lacking a 現辦理情形.
TRACKING_REMINDER_DAYS_BEFORE = _env(env.int, "TRACKING_REMINDER_DAYS_BEFORE", 7, minimum=0)
# An open item is flagged stale after this many meetings without a new 辦理情形.
TRACKING_STALE_AFTER_MEETINGS = _env(env.int, "TRACKING_STALE_AFTER_MEETINGS", 3, minimum=1)

# --- vmquota ---
# Hypervisor adapter: auto (libvirt when libvirt-python is installed, else dryrun), libvirt, dryrun.
VMQUOTA_HYPERVISOR_ADAPTER = env.str("VMQUOTA_HYPERVISOR_ADAPTER", default="auto")
if VMQUOTA_HYPERVISOR_ADAPTER not in {"auto", "libvirt", "dryrun"}:
    _fail("VMQUOTA_HYPERVISOR_ADAPTER", "必須是 auto、libvirt 或 dryrun")
# libvirt URI of the demo hypervisor (load_demo); tests use test:///default or a test:///…xml file.
VMQUOTA_DEMO_HYPERVISOR_URI = env.str("VMQUOTA_DEMO_HYPERVISOR_URI", default="test:///default")
VMQUOTA_SAMPLE_RETENTION_DAYS = _env(env.int, "VMQUOTA_SAMPLE_RETENTION_DAYS", 35, minimum=1)
VMQUOTA_REMINDER_HOURS = _env(env.int, "VMQUOTA_REMINDER_HOURS", 4, minimum=1)
VMQUOTA_NO_DATA_GRACE_SECONDS = _env(env.int, "VMQUOTA_NO_DATA_GRACE_SECONDS", 120, minimum=0)
VMQUOTA_ACTION_MAX_ATTEMPTS = _env(env.int, "VMQUOTA_ACTION_MAX_ATTEMPTS", 5, minimum=1)
VMQUOTA_ACTION_RETRY_BASE_S = _env(env.int, "VMQUOTA_ACTION_RETRY_BASE_S", 30, minimum=1)
VMQUOTA_MAX_SAMPLES_PER_REQUEST = _env(env.int, "VMQUOTA_MAX_SAMPLES_PER_REQUEST", 10000, minimum=1)
# Requests a collector token may make per minute (429 above it); a collector posts about one.
VMQUOTA_TOKEN_RATE_PER_MINUTE = _env(env.int, "VMQUOTA_TOKEN_RATE_PER_MINUTE", 120, minimum=1)
VMQUOTA_RESUME_CONTACT = env.str("VMQUOTA_RESUME_CONTACT", default="platform@ntpc.edu.tw")
# A suspend/resume call slower than this counts as a transient failure (retried with back-off).
VMQUOTA_HYPERVISOR_TIMEOUT_S = _env(env.int, "VMQUOTA_HYPERVISOR_TIMEOUT_S", 30, minimum=1)
