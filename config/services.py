"""Turn connection URLs from the environment into Django and Celery settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def database_settings(url: str) -> dict:
    """DATABASES['default'] from postgres://user:pass@host:port/name?opt=v or sqlite:///path."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # As in SQLAlchemy and dj-database-url: sqlite:///relative/path, sqlite:////absolute/path.
        path = unquote(parts.path)[1:]
        if not path or path.endswith("/"):
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path, "OPTIONS": {"timeout": 20}}
    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # PostgreSQL's JIT compiles the plans of large queries, and spent 4.6 of 6.6 s of a city's
        # progress board doing so: the product's queries are short and indexed (docs/operations.md).
        options["options"] = " ".join(part for part in (options.get("options", ""), "-c jit=off") if part)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL={url!r}: use postgres:// or sqlite://")


REDIS_VISIBILITY_TIMEOUT = 900  # seconds


@dataclass(frozen=True)
class Broker:
    url: str
    transport_options: dict


def broker_settings(redis_url: str | None, folder: str) -> Broker:
    """Redis when configured; otherwise kombu's filesystem transport in ``folder``.

    The filesystem transport needs no server, so `make run` on a bare machine still runs the
    worker and beat (one machine only: the folder is the queue).
    """
    if redis_url:
        return Broker(
            url=redis_url,
            transport_options={
                # A message a worker took and never acknowledged (the whole worker was killed) is
                # delivered again after this; exports stop well before it (EXPORT_TIME_LIMIT).
                "visibility_timeout": REDIS_VISIBILITY_TIMEOUT,
                # Sending while Redis is down fails at once (kombu would retry for some 6 s), so a
                # web request answers; the sweep sends the work again (config/queue.py).
                "max_retries": 0,
                "socket_connect_timeout": 1,
            },
        )
    queue = Path(folder) / "queue"
    processed = Path(folder) / "processed"
    control = Path(folder) / "control"  # kombu's exchange table: otherwise ./control in the working directory
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    return Broker(
        url="filesystem://",
        transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(processed),
            "store_processed": False,
            "control_folder": str(control),
        },
    )
