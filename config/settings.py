"""Django settings for Pilothouse.

Two deployments share these settings, chosen by environment variables:

* **Embedded** (the default, `make demo`): one process, SQLite and the in-memory channel layer.
  PILOTHOUSE_SQLITE   path of the SQLite file (default: var/pilothouse.sqlite3 in the repo)
* **Scaled out**: PostgreSQL and Redis, several Daphne front ends and `manage.py runsimworker`.
  PILOTHOUSE_DB=postgres              use PostgreSQL at PILOTHOUSE_PG_HOST:PILOTHOUSE_PG_PORT
                                      (127.0.0.1:5432), database PILOTHOUSE_PG_NAME (test),
                                      user PILOTHOUSE_PG_USER (postgres), trust auth
  PILOTHOUSE_CHANNEL_LAYER=redis      use channels_redis at PILOTHOUSE_REDIS_URL
                                      (redis://127.0.0.1:6379/0)

Other knobs: PILOTHOUSE_DEBUG=1, PILOTHOUSE_SECRET_KEY, PILOTHOUSE_ALLOWED_HOSTS (comma list).
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# A local teaching tool: the key only signs CSRF tokens, so a fixed development default is
# acceptable; a shared deployment sets PILOTHOUSE_SECRET_KEY.
SECRET_KEY = os.environ.get(
    "PILOTHOUSE_SECRET_KEY", "pilothouse-development-key-not-for-shared-deployments"
)
DEBUG = _env_flag("PILOTHOUSE_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "PILOTHOUSE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver"
    ).split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "channels",
    "cluster",
]

# No sessions, auth or messages: nothing here has users yet, and every middleware that touches
# the database would cost a thread hop per request on the async path.
MIDDLEWARE = [
    # Cross-site refusals, body limits and Status errors for the Kubernetes and control APIs.
    "cluster.api.guard.APIGuard",
    # Owned clusters: only their presenter changes them through the page and the control API.
    "cluster.access.AccessMiddleware",
    # Django's own, their hooks run on the event loop rather than through a thread (see there).
    "cluster.inlinemiddleware.SecurityMiddleware",
    "cluster.inlinemiddleware.CommonMiddleware",
    "cluster.inlinemiddleware.CsrfViewMiddleware",
    "cluster.inlinemiddleware.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
            ],
        },
    },
]

# -- database -------------------------------------------------------------------------------
if os.environ.get("PILOTHOUSE_DB", "sqlite").lower() in {"postgres", "postgresql"}:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PILOTHOUSE_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("PILOTHOUSE_PG_PORT", "5432"),
            "NAME": os.environ.get("PILOTHOUSE_PG_NAME", "test"),
            "USER": os.environ.get("PILOTHOUSE_PG_USER", "postgres"),
            "PASSWORD": os.environ.get("PILOTHOUSE_PG_PASSWORD", ""),
            "CONN_MAX_AGE": 60,
            "TEST": {"NAME": os.environ.get("PILOTHOUSE_PG_TEST_NAME", "test_pilothouse")},
        }
    }
else:
    _sqlite_path = Path(
        os.environ.get("PILOTHOUSE_SQLITE", BASE_DIR / "var" / "pilothouse.sqlite3")
    )
    _sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite_path,
            # Kept open: the worker persists every frame and before answering every write, and
            # each new connection would open the file and run the PRAGMAs again (~5 ms a write).
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # WAL lets readers run beside the worker's per-frame write transaction;
                # IMMEDIATE takes the write lock up front instead of failing mid-transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- channel layer --------------------------------------------------------------------------
# capacity: API requests of many kubectl watches queue on the worker's channel; the default of
# 100 would drop them silently under load (DESIGN.md, "Frames, not floods").
if os.environ.get("PILOTHOUSE_CHANNEL_LAYER", "memory").lower() == "redis":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults socket_timeout to 5 s, the same as channels_redis's BZPOPMIN
                # wait, so every idle receive() can die with TimeoutError (channels_redis#422).
                # Give blocking reads ample room above that 5 s.
                "hosts": [{
                    "address": os.environ.get("PILOTHOUSE_REDIS_URL", "redis://127.0.0.1:6379/0"),
                    "socket_timeout": 30,
                    "socket_connect_timeout": 5,
                }],
                "capacity": 1000,
                "expiry": 30,
                "prefix": os.environ.get("PILOTHOUSE_REDIS_PREFIX", "pilothouse"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 30},
        }
    }

# -- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "cluster": {"handlers": ["console"], "level": os.environ.get("PILOTHOUSE_LOG", "INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}

# -- Pilothouse -------------------------------------------------------------------------------
PILOTHOUSE = {
    # Frames per second the worker sends per cluster (DESIGN.md: about 10).
    "FRAME_RATE": float(os.environ.get("PILOTHOUSE_FRAME_RATE", "10")),
    # Seconds a front end waits for the worker to answer a command before giving up (503).
    "COMMAND_TIMEOUT": float(os.environ.get("PILOTHOUSE_COMMAND_TIMEOUT", "10")),
    # Seed the `demo` cluster when the worker starts and finds none.
    "SEED_DEMO": _env_flag("PILOTHOUSE_SEED_DEMO", True),
    # A cluster that no page watches and no request reaches for this many seconds is suspended
    # (the worker stops running it) until something asks for it again; 0 never suspends.
    "SUSPEND_AFTER_SECONDS": float(os.environ.get("PILOTHOUSE_SUSPEND_AFTER_SECONDS", "600")),
    # A token that presents every cluster (the teacher's, over every sandbox); empty: none.
    "TEACHER_TOKEN": os.environ.get("PILOTHOUSE_TEACHER_TOKEN", ""),
    # Beyond this many pods a cluster's snapshot counts pods per node and phase instead of
    # listing each (cluster/worker/frames.py); lower it for a slow projector machine.
    "SNAPSHOT_POD_LIMIT": int(os.environ.get("PILOTHOUSE_SNAPSHOT_POD_LIMIT", "600")),
}
