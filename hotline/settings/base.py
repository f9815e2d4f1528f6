"""Settings, read from the environment through one ``environ.Env()``.

Nothing exists only in production: production differs by environment values. With no environment
at all (and ``DJANGO_DEBUG=1``, which ``make run`` sets) the project runs on its embedded
defaults: SQLite and Celery tasks executed in-process. ``DATABASE_URL`` and ``CELERY_BROKER_URL``
switch to PostgreSQL and Redis. ``.env.example`` lists every variable.
"""

from base64 import urlsafe_b64encode
from datetime import timedelta
from hashlib import sha256
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Secrets have no default outside DEBUG.
_DEV_SECRET = "dev-only-insecure-key-never-use-in-production-1b6f0c3e9a"
# An empty value counts as unset (a copied .env.example has "DJANGO_SECRET_KEY=").
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or (_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Set it (see .env.example) or run with DJANGO_DEBUG=1 for development. "
        "未设置 DJANGO_SECRET_KEY：生产环境请按 .env.example 设置，开发环境请设置 DJANGO_DEBUG=1。"
    )
# Key for the HMAC that makes caller phone numbers searchable without storing them in clear text
# in indexes. Falls back to SECRET_KEY so a development install works without extra setup.
CALLER_HMAC_KEY = env("HOTLINE_CALLER_HMAC_KEY", default=SECRET_KEY)
# Fernet keys that encrypt callers' names and numbers in the database (tickets/fields.py):
# comma-separated, the first encrypts, all decrypt (rotation: docs/operations.md). DEBUG derives one
# from SECRET_KEY so that development needs no setup; production refuses to start without them.
FIELD_ENCRYPTION_KEYS = [k.strip() for k in env.list("HOTLINE_FIELD_ENCRYPTION_KEYS", default=[]) if k.strip()]
if not FIELD_ENCRYPTION_KEYS and DEBUG:
    FIELD_ENCRYPTION_KEYS = [urlsafe_b64encode(sha256(b"hotline-field-encryption:" + SECRET_KEY.encode()).digest()).decode()]
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "HOTLINE_FIELD_ENCRYPTION_KEYS is not set. Set it (see .env.example and docs/operations.md) or run with "
        "DJANGO_DEBUG=1 for development. 未设置 HOTLINE_FIELD_ENCRYPTION_KEYS（来电人信息加密密钥）：生产环境请按 "
        ".env.example 和 docs/operations.md 生成并设置，开发环境请设置 DJANGO_DEBUG=1。"
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_ratelimit",
    "tickets",
    "assessment",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # A view failing because the database is down answers 503 + Retry-After, not 500 (docs/operations.md).
    "tickets.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # GET requests to the heavy report views read from DATABASE_REPLICA_URL when it is set (hotline/db.py).
    "hotline.db.ReplicaReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL or a lone surrogate in the path, query string or a form field: 400, never a 500 (tickets/inputs.py).
    "tickets.middleware.MalformedRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees failed logins after authentication has run.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hotline.urls"
WSGI_APPLICATION = "hotline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hotline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tickets.menu.main_menu",  # the main menu, per role, from the views' own permission checks
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the embedded default serve a few users at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
# A read replica (PostgreSQL streaming replication) for the heavy reads: leader dashboard, assessment
# tables, public bulletins and exports (the views named in hotline/db.py). Writes never go there.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    for _key in ("ATOMIC_REQUESTS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        if _key in DATABASES["default"]:
            DATABASES["replica"][_key] = DATABASES["default"][_key]
    # Tests use the primary's test database for the replica alias (no second test database).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# PostgreSQL's JIT compiles a plan when its *estimated* cost is high: on a table of millions of rows an
# open-ticket count estimated at 500,000 cost units spent ~730 ms compiling for a 0.1 ms run. Pages
# are short queries: JIT is off for our connections unless DATABASE_JIT=true (docs/operations.md).
# DATABASE_STATEMENT_TIMEOUT (seconds, 0 = none): PostgreSQL cancels a statement that runs longer — set
# for the web processes (docker-compose.yml: 25 s, below gunicorn's 30 s timeout) so that a request killed
# by gunicorn leaves no query running on; workers and migrations (index builds) run without it.
_statement_timeout = env.int("DATABASE_STATEMENT_TIMEOUT", default=0)
for _db in DATABASES.values():
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _options = _db.setdefault("OPTIONS", {})
        if not env.bool("DATABASE_JIT", default=False):
            _options["options"] = (_options.get("options", "") + " -c jit=off").strip()
        if _statement_timeout > 0:
            _options["options"] = (_options.get("options", "") + f" -c statement_timeout={_statement_timeout}s").strip()
DATABASE_ROUTERS = ["hotline.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Short socket timeouts: with Redis down a cache call fails at once (the callers tolerate that).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-ratelimit lists neither Django's own RedisCache (its incr is Redis INCR, atomic) nor, in the
# embedded mode, the per-process locmem cache (each process then counts for itself) as supported.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + ([] if REDIS_URL else ["django_ratelimit.E003"])
# More than one web process (gunicorn's WEB_CONCURRENCY, or several web machines/containers:
# HOTLINE_WEB_INSTANCES) needs one shared cache: rate limits, login throttles, the calendar/rule cache
# version and idempotent form tokens are counted in it. Refuse to start rather than count per process.
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)
HOTLINE_WEB_INSTANCES = env.int("HOTLINE_WEB_INSTANCES", default=1)
if not REDIS_URL and (WEB_CONCURRENCY > 1 or HOTLINE_WEB_INSTANCES > 1):
    raise ImproperlyConfigured(
        "REDIS_URL is not set but more than one web process serves (WEB_CONCURRENCY / HOTLINE_WEB_INSTANCES > 1): "
        "rate limits and caches must be shared. 多个 web 进程同时服务时必须设置 REDIS_URL（共享缓存），"
        "否则限流和缓存各进程各算各的。"
    )

AUTH_USER_MODEL = "tickets.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
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

# Failed-login throttling (django-axes): 5 failures per username+IP lock for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "tickets.apis.errors.lockout"  # JSON {"code": "locked_out"} under /api/, the page elsewhere
AXES_CLIENT_IP_CALLABLE = "tickets.net.client_ip"  # the trusted-proxy setting below, as everywhere
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "hotline" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded files (attachments, import files, rendered bulletins) live in Django's default storage: the
# local MEDIA_ROOT by default; S3-compatible object storage (MinIO, a cloud's object store) through
# django-storages once HOTLINE_S3_BUCKET is set, so that several web and worker machines share them.
HOTLINE_S3_BUCKET = env("HOTLINE_S3_BUCKET", default="")
if HOTLINE_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": HOTLINE_S3_BUCKET,
            "endpoint_url": env("HOTLINE_S3_ENDPOINT_URL", default="") or None,
            "access_key": env("HOTLINE_S3_ACCESS_KEY", default="") or None,
            "secret_key": env("HOTLINE_S3_SECRET_KEY", default="") or None,
            "region_name": env("HOTLINE_S3_REGION", default="us-east-1"),
            "location": env("HOTLINE_S3_PREFIX", default=""),
            # MinIO and most on-premises stores want path-style addresses and v4 signatures.
            "addressing_style": "path",
            "signature_version": "s3v4",
            # Objects are private; the product streams them through its own permission-checked views.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Security: safe by default; development (DEBUG) relaxes only what needs TLS. -------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp), enforced: only the product's own scripts, styles, fonts and
# images; no inline code, no eval, no other host (government intranets have no internet anyway).
# tests/test_security_headers.py keeps templates free of inline scripts, styles and handlers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Rate limit of the pages anyone can open without logging in (django-ratelimit) ----------
# Per client IP, one budget for all public pages (tickets/ratelimit.py); over it: 429 + Retry-After.
HOTLINE_PUBLIC_RATE_LIMIT = env("HOTLINE_PUBLIC_RATE_LIMIT", default="120/m")
# The client's address (tickets/net.py: throttles, axes, rate limits, access log): behind N reverse
# proxies, the N-th entry from the right of the header they append to. 0 (no proxy): REMOTE_ADDR, and
# X-Forwarded-For, which any client can forge, is ignored. See operations.md.
HOTLINE_TRUSTED_PROXIES = env.int("HOTLINE_TRUSTED_PROXIES", default=0)
HOTLINE_CLIENT_IP_HEADER = env("HOTLINE_CLIENT_IP_HEADER", default="HTTP_X_FORWARDED_FOR")
# A cache outage must not take the public pages down: count nothing rather than refuse everyone.
RATELIMIT_FAIL_OPEN = True

# --- REST framework -------------------------------------------------------------------------
# API tokens are valid this many days from their issue (then 401 {"code": "token_expired"}; log in again).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
# A refused CSRF check says so (page in Chinese, {"code": "csrf_failed"} under /api/).
CSRF_FAILURE_VIEW = "tickets.apis.errors.csrf_failure"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tickets.apis.authentication.CsrfCheckedSessionAuthentication",
        "tickets.apis.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with a nesting limit and no NUL/lone surrogates (tickets/inputs.py); forms as DRF's.
    "DEFAULT_PARSER_CLASSES": ["tickets.apis.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "tickets.apis.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "tickets.apis.schema.AutoSchema",  # names nested Input/Output serializers
    "EXCEPTION_HANDLER": "tickets.exceptions.api_exception_handler",
    # Login attempts per client and per username (tickets/net.py), API and pages alike.
    "DEFAULT_THROTTLE_RATES": {"login": env("HOTLINE_LOGIN_THROTTLE", default="10/min"),
                               "login_username": env("HOTLINE_LOGIN_USERNAME_THROTTLE", default="10/min")},
    "NUM_PROXIES": HOTLINE_TRUSTED_PROXIES,  # DRF's own get_ident, should a view use DRF's throttles
}
SPECTACULAR_SETTINGS = {
    "TITLE": "12345 热线工单系统 API",
    "DESCRIPTION": "工单登记、派单、签收、办理、审核、回访、考核与简报。错误以 JSON 返回，带稳定的 code。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets shared by several components get one stable name (no "StatusB4cEnum").
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Status",
        "CallKindEnum": "tickets.models.CallKind",
        "ImportKindEnum": "tickets.models.ImportKind",
        "ImportStatusEnum": "tickets.models.ImportStatus",
        "OutboxStatusEnum": "tickets.models.OutboxStatus",
        "NotificationStatusEnum": "tickets.models.NotificationStatus",
        "NotificationKindEnum": "tickets.models.NotificationKind",
        "BulletinOverrideKindEnum": ["good", "poor"],
    },
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 1}
# With the broker down, queueing a task after commit must not hold up a registration or dispatch:
# one quick retry, then the row stays pending and the beat sweep queues it once Redis is back
# (docs/operations.md, "Redis 停止时"). The worker reconnects for as long as the outage lasts.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Two queues, routed here and nowhere else: "celery" (the default) for the short, time-critical jobs
# (SMS notifications, replies to upper platforms, auto-urge), "heavy" for the long ones (imports,
# monthly scoring, bulletin builds and publishing, model training). A long import can then never
# delay a dispatch notice: docker-compose.yml runs one worker per queue (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
HEAVY_TASK_MODULES = ("tickets.imports.", "assessment.", "reports.")
CELERY_TASK_ROUTES = {f"{module}*": {"queue": "heavy"} for module in HEAVY_TASK_MODULES}
# Every periodic job, in one schedule.
CELERY_BEAT_SCHEDULE = {
    "tickets-auto-urge": {
        "task": "tickets.tasks.ticket_auto_urge_task",
        "schedule": crontab(minute="*/15"),
    },
    "tickets-outbox-sweep": {
        "task": "tickets.exchange.tasks.outbox_sweep_task",
        "schedule": timedelta(seconds=env.int("HOTLINE_OUTBOX_SWEEP_SECONDS", default=60)),
    },
    # Dispatch suggestions learned again from the day's handled tickets (tickets/suggest.py).
    "tickets-dispatch-model-train": {
        "task": "tickets.tasks.dispatch_model_train_task",
        "schedule": crontab(minute=30, hour=1),
    },
    "tickets-notification-sweep": {
        "task": "tickets.exchange.tasks.notification_sweep_task",
        "schedule": timedelta(seconds=env.int("HOTLINE_SMS_SWEEP_SECONDS", default=60)),
    },
    # The month before, scored on the 2nd of each month at 02:00 (Asia/Shanghai).
    "assessment-compute-previous-month": {
        "task": "assessment.tasks.assessment_compute_task",
        "schedule": crontab(minute=0, hour=2, day_of_month=2),
    },
    # After the monthly assessment (day 1): build the previous month's bulletin draft (idempotent).
    "reports-bulletin-build": {
        "task": "reports.tasks.bulletin_build_previous_month_task",
        "schedule": crontab(minute=0, hour=6, day_of_month="2"),
    },
    # The dashboard's daily roll-up (reports/rollup.py): the recent days often, every day each night.
    "reports-volume-rollup-recent": {
        "task": "reports.tasks.volume_rollup_recent_task",
        "schedule": timedelta(minutes=env.int("HOTLINE_ROLLUP_RECENT_MINUTES", default=10)),
    },
    "reports-volume-rollup-all": {
        "task": "reports.tasks.volume_rollup_all_task",
        "schedule": crontab(minute=30, hour=3),
    },
    # Every morning: publish the built drafts whose publication day has come (not those held).
    "reports-bulletin-publish-due": {
        "task": "reports.tasks.bulletin_publish_due_task",
        "schedule": crontab(minute=0, hour=8),
    },
}

# The leader dashboard sums the daily roll-up for ended days (reports/rollup.py) — on by default when
# Celery has a broker (the beat job keeps the roll-up current); off, it counts every day live.
HOTLINE_DAILY_ROLLUP = env.bool("HOTLINE_DAILY_ROLLUP", default=bool(CELERY_BROKER_URL))
# How long a month's dashboard figures are cached (seconds); 0: computed at every view.
HOTLINE_DASHBOARD_CACHE_SECONDS = env.int("HOTLINE_DASHBOARD_CACHE_SECONDS", default=300)

# --- The hotline centre --------------------------------------------------------------------
HOTLINE_CENTRE_NAME = env("HOTLINE_CENTRE_NAME", default="汝州市12345政务服务便民热线")
HOTLINE_TICKET_PREFIX = env("HOTLINE_TICKET_PREFIX", default="RZ")
# Results reported to upper platforms: retries with exponential backoff, then "failed" (resend by hand).
HOTLINE_OUTBOX_BACKOFF_SECONDS = env.float("HOTLINE_OUTBOX_BACKOFF_SECONDS", default=30)
HOTLINE_OUTBOX_BACKOFF_MAX_SECONDS = env.float("HOTLINE_OUTBOX_BACKOFF_MAX_SECONDS", default=3600)
HOTLINE_OUTBOX_MAX_ATTEMPTS = env.int("HOTLINE_OUTBOX_MAX_ATTEMPTS", default=10)
HOTLINE_OUTBOX_TIMEOUT_SECONDS = env.float("HOTLINE_OUTBOX_TIMEOUT_SECONDS", default=10)
# Short messages to the units' duty phones (派单/催办/督办/即将超期): an HTTP SMS gateway. Unset: every
# message is recorded as "未发送" with the reason. Retries as for the outbox.
HOTLINE_SMS_GATEWAY_URL = env("HOTLINE_SMS_GATEWAY_URL", default="")
HOTLINE_SMS_GATEWAY_TOKEN = env("HOTLINE_SMS_GATEWAY_TOKEN", default="")
HOTLINE_SMS_SIGNATURE = env("HOTLINE_SMS_SIGNATURE", default="汝州12345")
HOTLINE_SMS_BACKOFF_SECONDS = env.float("HOTLINE_SMS_BACKOFF_SECONDS", default=30)
HOTLINE_SMS_BACKOFF_MAX_SECONDS = env.float("HOTLINE_SMS_BACKOFF_MAX_SECONDS", default=3600)
HOTLINE_SMS_MAX_ATTEMPTS = env.int("HOTLINE_SMS_MAX_ATTEMPTS", default=10)
HOTLINE_SMS_TIMEOUT_SECONDS = env.float("HOTLINE_SMS_TIMEOUT_SECONDS", default=10)
# Monthly bulletin: the issuing office, and the running issue number's starting point
# ("YYYY-MM:N" = that month is 总第N期; one issue a month).
HOTLINE_BULLETIN_OFFICE = env("HOTLINE_BULLETIN_OFFICE", default="汝州市人民政府办公室")
HOTLINE_BULLETIN_START = env("HOTLINE_BULLETIN_START", default="2024-04:280")
# The publication day: a built draft is published by the beat job on this day of the month after
# its month, unless an editor holds it; the editor may move one issue's day on its edit page.
HOTLINE_BULLETIN_PUBLISH_DAY = env.int("HOTLINE_BULLETIN_PUBLISH_DAY", default=10)
# Attachments (replies, photos): jpg/png/pdf/docx/xlsx, checked by extension and content.
HOTLINE_ATTACHMENT_MAX_BYTES = env.int("HOTLINE_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Imports (page, API and commands): caps checked while the file is streamed, before anything is kept
# in memory; over a cap the file is refused with a stable code. XLSX: the file size counts its
# uncompressed sheet and shared strings too. Only the first N row errors are stored (and a count).
HOTLINE_IMPORT_MAX_ROWS = env.int("HOTLINE_IMPORT_MAX_ROWS", default=100_000)
HOTLINE_IMPORT_MAX_CELL_BYTES = env.int("HOTLINE_IMPORT_MAX_CELL_BYTES", default=1024 * 1024)
HOTLINE_IMPORT_MAX_FILE_BYTES = env.int("HOTLINE_IMPORT_MAX_FILE_BYTES", default=50 * 1024 * 1024)
HOTLINE_IMPORT_MAX_STORED_ERRORS = env.int("HOTLINE_IMPORT_MAX_STORED_ERRORS", default=200)
# Ticket exports are masked; a full (unmasked) export needs a reason and holds at most this many tickets.
HOTLINE_EXPORT_FULL_MAX_ROWS = env.int("HOTLINE_EXPORT_FULL_MAX_ROWS", default=5000)
# Lists count matching tickets up to this many ("10,000+ 件" beyond; tickets/pagination.py).
HOTLINE_LIST_COUNT_LIMIT = env.int("HOTLINE_LIST_COUNT_LIMIT", default=10000)

# --- Logging: no caller data ever; the filter scrubs phone numbers from every record. --------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub_phones": {"()": "tickets.logging.PhoneScrubFilter"},
                "client_ip": {"()": "tickets.logging.ClientIpFilter"}},  # tickets/net.py's address
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["client_ip", "scrub_phones"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
