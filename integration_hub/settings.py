"""Integration Hub settings: one module, driven by the environment.

Every variable read here is listed, with a comment, in `.env.example`. With no environment at all
the hub runs on the embedded default: SQLite and Celery's filesystem broker under `var/`, with
development secrets generated once into `var/`. Production sets `DJANGO_DEBUG=false` and must
then provide its secrets; the process refuses to start otherwise.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env.str("HUB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _dev_secret(name: str, make: Any) -> str:
    """A secret generated once into var/ and reused, for development only."""
    path = VAR_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
    return path.read_text().strip()


def _required_secret(var: str, dev_file: str, make: Any) -> str:
    value: str = env.str(var, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{var} is required when DJANGO_DEBUG is off; refusing to start without it."
        )
    return _dev_secret(dev_file, make)


SECRET_KEY = _required_secret("DJANGO_SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Fernet keys, comma-separated, newest first: MultiFernet encrypts with the first and decrypts with
# any, so a key can be rotated without re-encrypting everything at once.
FIELD_ENCRYPTION_KEYS = [
    k.strip()
    for k in _required_secret(
        "HUB_FIELD_ENCRYPTION_KEY",
        "field_encryption_key",
        lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    ).split(",")
    if k.strip()
]

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "apps.core",
    "apps.ledger",
    "apps.inbox",
    "apps.odoo",
    "apps.observability",
    "apps.sales_channels",
    "apps.mappings",
    "apps.webhooks",
    "apps.orders",
    "apps.inventory",
    "apps.events",
    "apps.fulfillment",
    "apps.returns",
    "apps.finance",
    "apps.customers",
    "apps.catalog",
    "apps.migration",
    "apps.pricing",
    "apps.ops",
]

MIDDLEWARE = [
    "apps.core.middleware.CorrelationIdMiddleware",
    "apps.observability.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "integration_hub.urls"
WSGI_APPLICATION = "integration_hub.wsgi.application"
ASGI_APPLICATION = "integration_hub.asgi.application"

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
            ]
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; IMMEDIATE transactions take the write lock at BEGIN
    # so two processes never deadlock upgrading a read lock; the busy timeout makes a writer wait
    # instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
        ),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("HUB_DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests share their database with real worker processes, so it must be a file, not memory.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_hub.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttles, locks) -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hub",
        }
    }
else:
    # The database cache is shared by every process (web, workers, beat) and its add() is atomic
    # through the primary key, which the periodic-job locks rely on.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "hub_cache",
            "KEY_PREFIX": "hub",
        }
    }

# --- Auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The dashboard's chart library (plotly.js) is served from the installed Python package.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "apps.ops.staticfinders.PackageFinder",
]

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- DRF --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integration Hub API",
    "DESCRIPTION": "Order intake, inventory and events between sales channels and Odoo. The "
    "contract partners code against: auth, scopes, the error body, versioning and the changelog "
    "are in docs/api.md.",
    # The contract's version (docs/api.md, "Changelog"): minor for additions, major for breaks.
    "VERSION": "1.1.0",
    # Request bodies get their own components, so `minLength` and write-only fields show.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.sales_channels.openapi.contract_postprocess",
        "apps.webhooks.openapi.inbound_webhooks",
    ],
    # Two models have a `state` choice set in the API (orders, returns): name them apart.
    "ENUM_NAME_OVERRIDES": {
        "ReturnStateEnum": "apps.returns.models.ChannelReturn.State",
        "EndpointStateEnum": "apps.events.models.WebhookEndpoint.State",
    },
    # 3.1 for the `webhooks` section: every business event a partner endpoint can receive.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": [
        "apps.events.openapi." + p.stem.replace(".", "_").upper()
        for p in sorted((BASE_DIR / "apps" / "events" / "schemas").glob("*.json"))
    ],
}

# --- Ports and Odoo ---------------------------------------------------------------------------
HUB_WEB_PORT = env.int("HUB_WEB_PORT", default=8000)
HUB_FLOWER_PORT = env.int("HUB_FLOWER_PORT", default=5555)
HUB_SANDBOX_PORT = env.int("HUB_SANDBOX_PORT", default=8069)
ODOO_URL = env.str("ODOO_URL", default=f"http://127.0.0.1:{HUB_SANDBOX_PORT}")
ODOO_DB = env.str("ODOO_DB", default="hub")
ODOO_USER = env.str("ODOO_USER", default="admin")
ODOO_PASSWORD = env.str("ODOO_PASSWORD", default="admin")
# An API key of ODOO_USER (Odoo 19+: JSON-2 needs one; JSON-RPC accepts it as the password), and
# the transport: auto (JSON-2 when the server offers it and a key is set), jsonrpc or json2.
ODOO_API_KEY = env.str("ODOO_API_KEY", default="")
ODOO_TRANSPORT = env.str("ODOO_TRANSPORT", default="auto")
# The finance flow's bank side (bank statement lines, matching payouts) needs a user in
# account.group_account_user ("Technical / Show Full Accounting Features"), which the integration
# user above should not have. Unset: the integration user (statement lines then fail with an
# access error). See docs/odoo.md, "Finance: invoices, payments, payouts".
ODOO_ACCOUNTING_USER = env.str("ODOO_ACCOUNTING_USER", default="")
ODOO_ACCOUNTING_PASSWORD = env.str("ODOO_ACCOUNTING_PASSWORD", default="")
ODOO_ACCOUNTING_API_KEY = env.str("ODOO_ACCOUNTING_API_KEY", default="")
ODOO_TIMEOUT_CONNECT = env.float("ODOO_TIMEOUT_CONNECT", default=5.0)
ODOO_TIMEOUT_READ = env.float("ODOO_TIMEOUT_READ", default=60.0)
ODOO_MAX_CONCURRENCY = env.int("ODOO_MAX_CONCURRENCY", default=4)
ODOO_BREAKER_THRESHOLD = env.int("ODOO_BREAKER_THRESHOLD", default=5)
ODOO_BREAKER_PROBE_SECONDS = env.float("ODOO_BREAKER_PROBE_SECONDS", default=15.0)
ODOO_SLOT_WAIT_SECONDS = env.float("ODOO_SLOT_WAIT_SECONDS", default=10.0)
ODOO_REQUIRED_FOR_READY = env.bool("ODOO_REQUIRED_FOR_READY", default=True)

FLOWER_BASIC_AUTH = env.str("FLOWER_BASIC_AUTH", default="") or (
    "" if not DEBUG else "ops:" + _dev_secret("flower_password", lambda: secrets.token_urlsafe(12))
)

# --- Celery -----------------------------------------------------------------------------------
HUB_QUEUES = ("intake", "odoo", "channel_io", "batch", "maintenance", "default", "events")
# The one routing table: task-name patterns to queues. Queues are named after the resource the
# work loads, so the Odoo queue can run at low concurrency on its own worker.
HUB_TASK_ROUTES: dict[str, str] = {
    "core.*": "maintenance",
    "observability.*": "maintenance",
    "ledger.*": "maintenance",
    "inbox.*": "maintenance",
    "webhooks.*": "intake",
    "events.*": "events",
    "orders.push*": "odoo",
    "orders.acknowledge": "channel_io",
    "odoo.*": "odoo",
    "orders.*": "intake",
    "inventory.poll*": "odoo",
    "inventory.publish*": "channel_io",
    "inventory.*": "batch",
    "fulfillment.sync": "channel_io",
    "fulfillment.poll_odoo": "odoo",
    "fulfillment.read_pickings": "odoo",
    "fulfillment.*": "batch",
    "returns.refund": "channel_io",
    "returns.sync": "odoo",
    "returns.poll_odoo": "odoo",
    "returns.*": "batch",
    "finance.capture": "channel_io",
    "finance.payouts_import": "channel_io",
    "finance.sync": "odoo",
    "finance.batch": "odoo",
    "finance.*": "batch",
    "migration.*": "batch",
    "customers.*": "channel_io",
    "catalog.poll_odoo": "odoo",
    "catalog.*": "batch",
    "pricing.*": "odoo",
    "ops.*": "maintenance",
    "channels.*": "channel_io",
    "mappings.*": "batch",
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("queue", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
        # The folder is polled; a short interval keeps the embedded default responsive.
        "polling_interval": 0.2,
    }
else:
    # Redis redelivers an unacknowledged message after the visibility timeout. It must exceed the
    # longest task (hard limit) and the longest countdown we ever use (HUB_MAX_COUNTDOWN), or a
    # message would run twice. Longer waits live in the database as due times.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("HUB_BROKER_VISIBILITY_TIMEOUT", default=3600),
        # How often a worker looks for messages whose consumer died (scan on every sweep).
        "unacked_restore_interval": env.int("HUB_BROKER_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("HUB_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("HUB_TASK_TIME_LIMIT", default=360)
CELERY_WORKER_SEND_TASK_EVENTS = True
# "task-sent" events cost a second broker publish for every task sent, on the hottest path (each
# accepted webhook rings one task). Flower still sees every task from the worker's own events
# (received, started, succeeded); turn this on only to see tasks that no worker has taken yet.
CELERY_TASK_SEND_SENT_EVENT = env.bool("HUB_CELERY_SENT_EVENTS", default=False)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = env.bool("HUB_CELERY_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Keep worker database connections across tasks (Celery closes them before and after every
# task otherwise, whatever CONN_MAX_AGE says): ~60 new PostgreSQL sessions a second at 400
# webhook deliveries/s. apps/core/signals.py applies Django's age and health rules instead.
CELERY_DB_REUSE_MAX = env.int("HUB_CELERY_DB_REUSE_MAX", default=100) or None
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

HUB_MAX_COUNTDOWN = env.int("HUB_MAX_COUNTDOWN", default=300)
HUB_RETRY_BASE_SECONDS = env.float("HUB_RETRY_BASE_SECONDS", default=2.0)
HUB_RETRY_MAX_ATTEMPTS = env.int("HUB_RETRY_MAX_ATTEMPTS", default=8)
if CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 10**9) <= max(
    HUB_MAX_COUNTDOWN, CELERY_TASK_TIME_LIMIT
):
    raise ImproperlyConfigured(
        "visibility_timeout must exceed HUB_MAX_COUNTDOWN and the time limit"
    )

# Work ledger: how long a claimed row is leased to one worker, attempts before it fails to the
# inbox, how long after a ring the sweeper may ring a row again, and the longest retry wait.
HUB_LEDGER_LEASE_SECONDS = env.int("HUB_LEDGER_LEASE_SECONDS", default=60)
HUB_LEDGER_MAX_ATTEMPTS = env.int("HUB_LEDGER_MAX_ATTEMPTS", default=10)
HUB_LEDGER_RING_GRACE_SECONDS = env.int("HUB_LEDGER_RING_GRACE_SECONDS", default=30)
# Accepted events ring the workers through one coalesced message per window per process
# (apps/ledger/doorbell.py); 0 sends one message per event.
HUB_DOORBELL_WINDOW_MS = env.int("HUB_DOORBELL_WINDOW_MS", default=20)
HUB_LEDGER_BACKOFF_CAP_SECONDS = env.int("HUB_LEDGER_BACKOFF_CAP_SECONDS", default=3600)
# Order push: orders per batch, the lease on a claimed batch, retry backoff while Odoo fails,
# the default shipping product, and how long Idempotency-Key answers are kept.
HUB_ORDER_PUSH_BATCH = env.int("HUB_ORDER_PUSH_BATCH", default=100)
HUB_ORDER_PUSH_LEASE_SECONDS = env.int("HUB_ORDER_PUSH_LEASE_SECONDS", default=300)
HUB_ORDER_RETRY_BASE_SECONDS = env.float("HUB_ORDER_RETRY_BASE_SECONDS", default=5.0)
HUB_ORDER_RETRY_MAX_SECONDS = env.float("HUB_ORDER_RETRY_MAX_SECONDS", default=600.0)
HUB_ORDER_SHIPPING_SKU = env.str("HUB_ORDER_SHIPPING_SKU", default="SHIP")
# Order push pacing (docs/orders.md, "Pacing"): push batches one Odoo database takes at once
# (default a quarter of ODOO_MAX_CONCURRENCY, at least 1; 0 = no limit), how long a push waits
# for a free slot, and how long (at most) a push on an idle Odoo lingers while a burst of fewer
# than HUB_ORDER_PUSH_LINGER_BATCH orders is still arriving.
HUB_ODOO_MAX_CONCURRENT_PUSHES = env.int(
    "HUB_ODOO_MAX_CONCURRENT_PUSHES", default=max(1, ODOO_MAX_CONCURRENCY // 4)
)
HUB_ORDER_PUSH_SLOT_WAIT_SECONDS = env.float("HUB_ORDER_PUSH_SLOT_WAIT_SECONDS", default=30.0)
HUB_ORDER_PUSH_LINGER_SECONDS = env.float("HUB_ORDER_PUSH_LINGER_SECONDS", default=0.3)
HUB_ORDER_PUSH_LINGER_BATCH = env.int("HUB_ORDER_PUSH_LINGER_BATCH", default=10)
# Longest an Odoo call of one push batch should take at Odoo's measured cost per order: the
# batch size follows (default a third of the read timeout; 0 = always HUB_ORDER_PUSH_BATCH).
HUB_ORDER_PUSH_BATCH_SECONDS = env.float(
    "HUB_ORDER_PUSH_BATCH_SECONDS", default=ODOO_TIMEOUT_READ / 3
)
HUB_IDEMPOTENCY_TTL_HOURS = env.int("HUB_IDEMPOTENCY_TTL_HOURS", default=24)
HUB_IDEMPOTENCY_STALE_SECONDS = env.int("HUB_IDEMPOTENCY_STALE_SECONDS", default=120)
HUB_RETENTION_DAYS = env.int("HUB_RETENTION_DAYS", default=30)
# Default request rate per API token (DRF rate syntax), unless the channel sets its own.
HUB_API_TOKEN_RATE = env.str("HUB_API_TOKEN_RATE", default="600/min")
# Seconds a process caches a channel's configuration for ingress (0: no cache).
HUB_CHANNEL_CACHE_SECONDS = env.int("HUB_CHANNEL_CACHE_SECONDS", default=5)
HUB_SHOPIFY_API_VERSION = env.str("HUB_SHOPIFY_API_VERSION", default="2025-01")
# The hub's own public base URL; webhook subscriptions must point at <it>/webhooks/<kind>/<code>/.
HUB_PUBLIC_URL = env.str("HUB_PUBLIC_URL", default="")
# Order polling backstop: re-read this much before the watermark (dedupe makes it free), and how
# far back the first poll of a channel reaches.
HUB_ORDER_POLL_OVERLAP_SECONDS = env.int("HUB_ORDER_POLL_OVERLAP_SECONDS", default=600)
HUB_ORDER_POLL_LOOKBACK_SECONDS = env.int("HUB_ORDER_POLL_LOOKBACK_SECONDS", default=86400)
# The hourly webhook-subscription check re-registers missing / re-activates disabled ones.
HUB_WEBHOOKS_AUTO_REPAIR = env.bool("HUB_WEBHOOKS_AUTO_REPAIR", default=True)
HUB_MAX_BODY_BYTES = env.int("HUB_MAX_BODY_BYTES", default=1024 * 1024)
# Adobe I/O Events (Magento): the only host public keys are fetched from, how long a fetched key
# is cached (memory and Django cache), and at most how many new keys a process fetches a minute.
HUB_ADOBE_KEY_HOST = env.str("HUB_ADOBE_KEY_HOST", default="https://static.adobeioevents.com")
HUB_ADOBE_KEY_CACHE_SECONDS = env.int("HUB_ADOBE_KEY_CACHE_SECONDS", default=86400)
HUB_ADOBE_KEY_FETCHES_PER_MINUTE = env.int("HUB_ADOBE_KEY_FETCHES_PER_MINUTE", default=30)
# Inventory: the Odoo stock poll period and its overlap, how long a first dirty mark waits to
# gather a burst into one publication, the lease of one channel's publication, how old a stored
# ATP the inventory API may serve, and the secret path token of POST /webhooks/odoo/<token>/.
HUB_STOCK_POLL_SECONDS = env.float("HUB_STOCK_POLL_SECONDS", default=10.0)
HUB_STOCK_POLL_OVERLAP_SECONDS = env.float("HUB_STOCK_POLL_OVERLAP_SECONDS", default=5.0)
HUB_INVENTORY_COALESCE_SECONDS = env.float("HUB_INVENTORY_COALESCE_SECONDS", default=1.0)
HUB_INVENTORY_PUBLISH_LEASE_SECONDS = env.int("HUB_INVENTORY_PUBLISH_LEASE_SECONDS", default=300)
HUB_INVENTORY_API_MAX_AGE_SECONDS = env.int("HUB_INVENTORY_API_MAX_AGE_SECONDS", default=60)
# The price engine re-reads changed pricelist rules and product prices this often (apps.pricing).
HUB_PRICES_POLL_SECONDS = env.int("HUB_PRICES_POLL_SECONDS", default=60)
HUB_PRICES_POLL_OVERLAP_SECONDS = env.float("HUB_PRICES_POLL_OVERLAP_SECONDS", default=5.0)
# Catalog publication (docs/catalog.md): seconds between polls of Odoo's product changes and the
# overlap each re-reads; how long one channel's publication may hold its lock; the currency of
# list prices published without a pricelist.
HUB_CATALOG_POLL_SECONDS = env.float("HUB_CATALOG_POLL_SECONDS", default=60.0)
HUB_CATALOG_POLL_OVERLAP_SECONDS = env.float("HUB_CATALOG_POLL_OVERLAP_SECONDS", default=5.0)
HUB_CATALOG_PUBLISH_LEASE_SECONDS = env.int("HUB_CATALOG_PUBLISH_LEASE_SECONDS", default=1800)
HUB_CATALOG_CURRENCY = env.str("HUB_CATALOG_CURRENCY", default="USD")
HUB_ODOO_WEBHOOK_TOKEN = env.str("HUB_ODOO_WEBHOOK_TOKEN", default="")
# Shipments (docs/fulfillment.md): the done-pickings poll period and how far before its cursor
# each poll re-reads (write_date is the transaction's start: a long one commits "in the past").
HUB_SHIPMENT_POLL_SECONDS = env.float("HUB_SHIPMENT_POLL_SECONDS", default=15.0)
HUB_SHIPMENT_POLL_OVERLAP_SECONDS = env.int("HUB_SHIPMENT_POLL_OVERLAP_SECONDS", default=300)
# Returns and refunds (docs/returns.md): a hub refund above this amount (in the channel's
# currency) waits for an Approver; the Odoo return-receipt poll period and its overlap.
HUB_REFUND_APPROVAL_ABOVE = env.str("HUB_REFUND_APPROVAL_ABOVE", default="250.00")
HUB_RETURN_POLL_SECONDS = env.float("HUB_RETURN_POLL_SECONDS", default=30.0)
# Finance (docs/finance.md).
HUB_INVOICE_PLAN_SECONDS = env.float("HUB_INVOICE_PLAN_SECONDS", default=15.0)
HUB_PAYOUT_IMPORT_SECONDS = env.float("HUB_PAYOUT_IMPORT_SECONDS", default=3600.0)
# How long after a paid order arrives its captured payments are read from the channel: the
# payment waits for the invoice anyway, the order's next deliveries (orders/paid, updates) join
# the same read, and a burst of orders is not slowed by their reads (0 = at once).
HUB_FINANCE_CAPTURE_DELAY_SECONDS = env.float("HUB_FINANCE_CAPTURE_DELAY_SECONDS", default=20.0)
HUB_FINANCE_BATCH = {
    "invoice": env.int("HUB_INVOICE_BATCH", default=200),
    "payment": env.int("HUB_PAYMENT_BATCH", default=100),
}
# An Odoo journal id for payment gateways the channel's value map does not name (blank: such a
# payment is an inbox item until the gateway is mapped).
HUB_PAYMENT_DEFAULT_JOURNAL = env.str("HUB_PAYMENT_DEFAULT_JOURNAL", default="")
HUB_RETURN_POLL_OVERLAP_SECONDS = env.int("HUB_RETURN_POLL_OVERLAP_SECONDS", default=300)
# Inventory publication: the request rate of WooCommerce sites (core WooCommerce has no limit and
# sends no rate headers; hosts and WAFs add their own), and the longest a publisher sleeps for a
# channel's rate budget before handing the wait to the task queue (RateLimited, retry_after).
HUB_WOOCOMMERCE_API_RATE = env.str("HUB_WOOCOMMERCE_API_RATE", default="10/s")
HUB_INVENTORY_MAX_WAIT_SECONDS = env.float("HUB_INVENTORY_MAX_WAIT_SECONDS", default=30.0)
# Magento outbound (docs/channels.md): the request rate kept on a store (Magento's admin REST has
# no limit by default; hosting may add one) and the MSI source items per call (20 when the store
# enables Magento's input limits).
HUB_MAGENTO_API_RATE = env.str("HUB_MAGENTO_API_RATE", default="10/s")
HUB_MAGENTO_STOCK_BATCH = env.int("HUB_MAGENTO_STOCK_BATCH", default=100)
# The subscription check of Magento channels with Adobe I/O Events on reads the organisation's
# registrations from Adobe (apps/sales_channels/magento_health.py); unset = not checked.
HUB_ADOBE_IO_API_URL = env.str("HUB_ADOBE_IO_API_URL", default="https://api.adobe.io")
HUB_ADOBE_IMS_URL = env.str("HUB_ADOBE_IMS_URL", default="https://ims-na1.adobelogin.com")
HUB_ADOBE_IO_CONSUMER_ORG_ID = env.str("HUB_ADOBE_IO_CONSUMER_ORG_ID", default="")
HUB_ADOBE_IO_CLIENT_SECRET = env.str("HUB_ADOBE_IO_CLIENT_SECRET", default="")
DATA_UPLOAD_MAX_MEMORY_SIZE = HUB_MAX_BODY_BYTES

# --- Logging ----------------------------------------------------------------------------------
HUB_LOG_FORMAT = env.str("HUB_LOG_FORMAT", default="console" if DEBUG else "json")
HUB_LOG_LEVEL = env.str("HUB_LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "apps.core.logging.ContextFilter"}},
    "formatters": {
        "json": {"()": "apps.core.logging.JsonFormatter"},
        "console": {
            "format": "%(asctime)s %(levelname)-7s %(name)s [%(correlation_id)s] %(message)s"
        },
    },
    "handlers": {
        "default": {
            "class": "logging.StreamHandler",
            "formatter": HUB_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["default"], "level": HUB_LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
    },
}

# --- Business events and partner webhooks (docs/events.md) -------------------------------------
# Payloads that break their JSON Schema raise in development and tests, and are logged (and
# still recorded) in production.
HUB_EVENTS_STRICT = env.bool("HUB_EVENTS_STRICT") if env.str("HUB_EVENTS_STRICT", "") else DEBUG
HUB_EVENTS_RETENTION_DAYS = env.int("HUB_EVENTS_RETENTION_DAYS", default=30)
HUB_EVENTS_DOORBELL_MS = env.float("HUB_EVENTS_DOORBELL_MS", default=10.0)
# Partner URLs on private, loopback or link-local addresses are refused unless this is set.
HUB_OUTBOUND_ALLOW_PRIVATE = (
    env.bool("HUB_OUTBOUND_ALLOW_PRIVATE") if env.str("HUB_OUTBOUND_ALLOW_PRIVATE", "") else DEBUG
)
# Partner URLs must be https (default: in production, i.e. DJANGO_DEBUG off).
HUB_WEBHOOK_REQUIRE_HTTPS = (
    env.bool("HUB_WEBHOOK_REQUIRE_HTTPS") if env.str("HUB_WEBHOOK_REQUIRE_HTTPS", "") else not DEBUG
)
HUB_WEBHOOK_TIMEOUT_SECONDS = env.float("HUB_WEBHOOK_TIMEOUT_SECONDS", default=15.0)
HUB_WEBHOOK_BREAKER_THRESHOLD = env.int("HUB_WEBHOOK_BREAKER_THRESHOLD", default=5)
HUB_WEBHOOK_BREAKER_SECONDS = env.float("HUB_WEBHOOK_BREAKER_SECONDS", default=5.0)
HUB_WEBHOOK_RUN_SECONDS = env.float("HUB_WEBHOOK_RUN_SECONDS", default=20.0)

# --- Operations (apps/ops, docs/operations.md) -------------------------------------------------
# Service levels: the share of events within the threshold (seconds), per business flow.
HUB_SLO_ORDER_TO_ODOO_SECONDS = env.float("HUB_SLO_ORDER_TO_ODOO_SECONDS", default=60.0)
HUB_SLO_ORDER_TO_ODOO_OBJECTIVE = env.float("HUB_SLO_ORDER_TO_ODOO_OBJECTIVE", default=0.99)
HUB_SLO_STOCK_TO_CHANNEL_SECONDS = env.float("HUB_SLO_STOCK_TO_CHANNEL_SECONDS", default=30.0)
HUB_SLO_STOCK_TO_CHANNEL_OBJECTIVE = env.float("HUB_SLO_STOCK_TO_CHANNEL_OBJECTIVE", default=0.95)
HUB_SLO_OUTBOUND_SECONDS = env.float("HUB_SLO_OUTBOUND_SECONDS", default=5.0)
HUB_SLO_OUTBOUND_OBJECTIVE = env.float("HUB_SLO_OUTBOUND_OBJECTIVE", default=0.99)
# Multi-window burn-rate alerting (the SRE workbook's defaults): fast = 1h and 5m above 14.4.
HUB_SLO_FAST_BURN = env.float("HUB_SLO_FAST_BURN", default=14.4)
HUB_SLO_SLOW_BURN = env.float("HUB_SLO_SLOW_BURN", default=6.0)
HUB_OPS_ROLLUP_SECONDS = env.float("HUB_OPS_ROLLUP_SECONDS", default=300.0)
HUB_OPS_WATCH_SECONDS = env.float("HUB_OPS_WATCH_SECONDS", default=300.0)
HUB_OPS_BASELINE_WEEKS = env.int("HUB_OPS_BASELINE_WEEKS", default=4)
HUB_OPS_SPIKE_SIGMAS = env.float("HUB_OPS_SPIKE_SIGMAS", default=4.0)
HUB_OPS_SILENCE_MIN_EXPECTED = env.float("HUB_OPS_SILENCE_MIN_EXPECTED", default=5.0)
HUB_OPS_QUEUE_DEPTH_MAX = env.int("HUB_OPS_QUEUE_DEPTH_MAX", default=1000)
HUB_OPS_UNUSUAL_SIGMAS = env.float("HUB_OPS_UNUSUAL_SIGMAS", default=6.0)
HUB_OPS_NEW_B2B_TOTAL = env.str("HUB_OPS_NEW_B2B_TOTAL", default="5000.00")
# Assistive triage: an operator's language-model endpoint that turns an incident summary into
# prose. Off (empty) by default; it is only ever asked for text, never to act.
HUB_ASSIST_URL = env.str("HUB_ASSIST_URL", default="")
HUB_ASSIST_TIMEOUT_SECONDS = env.float("HUB_ASSIST_TIMEOUT_SECONDS", default=10.0)
