"""Configuration from CASEWORK_* environment variables (documented in docs/configuration.md).

Every variable is declared here once, with its type and default. An unknown CASEWORK_ variable
(usually a typo) or a value of the wrong shape stops start-up with one line saying what to fix.
"""

from __future__ import annotations

import difflib
import os
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

PREFIX = "CASEWORK_"


class ConfigError(click.ClickException):
    """A configuration problem, reported as one line (the CLI prints it without a traceback)."""


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _int(raw: str) -> int:
    return int(raw.strip())


def _str(raw: str) -> str:
    return raw.strip()


def _rate_limit(raw: str) -> str:
    from limits import parse_many

    text = raw.strip()
    try:
        parse_many(text)
    except ValueError:
        raise ValueError("expected a rate limit such as 120 per minute") from None
    return text


def _time_zone(raw: str) -> str:
    from casework import timezones

    name = raw.strip()
    if not timezones.is_known(name):
        raise ValueError("expected an IANA time zone such as Asia/Shanghai or Europe/Berlin")
    return name


def _hour(raw: str) -> int:
    hour = int(raw.strip())
    if not 0 <= hour <= 23:
        raise ValueError("expected an hour from 0 to 23")
    return hour


def _public_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("expected an absolute http:// or https:// address, such as https://casework.example.org")
    return url


@dataclass(frozen=True)
class Setting:
    name: str  # without the prefix
    flask_key: str | None  # key in app.config; None for settings only tools read
    parse: Callable[[str], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", _str, None,
            "SQLAlchemy database URL; default: SQLite file instance/casework.sqlite3."),
    Setting("SECRET_KEY", "SECRET_KEY", _str, None,
            "Signs sessions and CSRF tokens; default: generated once and kept in instance/secret_key."),
    Setting("UPLOAD_DIR", "UPLOAD_DIR", _str, None,
            "Directory for uploaded files, stored by SHA-256; default: instance/uploads."),
    Setting("CHAINS", "CHAINS", _str, None,
            "Chain registry: a JSON list, or the path of a TOML/YAML file; default: the shipped chains."),
    Setting("DEVNET_RPC_URL", "DEVNET_RPC_URL", _str, "http://127.0.0.1:8545",
            "JSON-RPC URL of the local development chain (anvil)."),
    Setting("PUBLIC_URL", "PUBLIC_URL", _public_url, "http://127.0.0.1:5000",
            "The address victims use: every link in an e-mail, and every link a victim copies, starts with it."),
    Setting("HTTPS", "HTTPS", _bool, False,
            "Served over HTTPS: secure session cookies, HSTS, https links."),
    Setting("PROXY_COUNT", "PROXY_COUNT", _int, 0,
            "Number of trusted reverse proxies in front of the app (for client address and scheme)."),
    Setting("MAIL_SERVER", "MAIL_SERVER", _str, "127.0.0.1", "SMTP server host."),
    Setting("MAIL_PORT", "MAIL_PORT", _int, 25, "SMTP server port."),
    Setting("MAIL_USERNAME", "MAIL_USERNAME", _str, None, "SMTP user name, if the server needs one."),
    Setting("MAIL_PASSWORD", "MAIL_PASSWORD", _str, None, "SMTP password."),
    Setting("MAIL_USE_TLS", "MAIL_USE_TLS", _bool, False, "Use STARTTLS with the SMTP server."),
    Setting("MAIL_SENDER", "MAIL_SENDER", _str, "Casework <casework@localhost>", "From address of e-mails."),
    Setting("REFERRAL_CONTACT", "REFERRAL_CONTACT", _str, None,
            "Our contact in referrals' requests (the recovery desk's name, e-mail, phone); default: MAIL_SENDER."),
    Setting("OUTBOX_INTERVAL_SECONDS", "OUTBOX_INTERVAL_SECONDS", _int, 15,
            "How often the scheduler sends the mail outbox."),
    Setting("EVIDENCE_INTERVAL_SECONDS", "EVIDENCE_INTERVAL_SECONDS", _int, 5,
            "How often the scheduler looks for due evidence jobs (the first hour's capture, discovery and trace)."),
    Setting("OUTBOX_LEASE_SECONDS", "OUTBOX_LEASE_SECONDS", _int, 600,
            "How long an e-mail a sender took stays its own; one whose sender died is sent again after this."),
    Setting("STAFF_TIMEZONE", "STAFF_TIMEZONE", _time_zone, "UTC",
            "IANA time zone the console shows times in for staff who have not chosen their own (e.g. Asia/Shanghai)."),
    Setting("SLA_DIGEST_HOUR", "SLA_DIGEST_HOUR", _hour, 8,
            "Local hour (0-23, in each staff member's own time zone) the daily SLA digest is sent at."),
    Setting("RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_URI", _str, "memory://",
            "Where rate-limit counters live; use redis://... with several web workers."),
    Setting("API_RATE_LIMIT", "API_RATE_LIMIT", _rate_limit, "120 per minute",
            "Requests each API token may make (e.g. 120 per minute; several limits with ;); then 429."),
    Setting("LOG_LEVEL", "LOG_LEVEL", _str, "INFO", "Python logging level."),
    Setting("TEST_DATABASE_URL", None, _str, None,
            "Tests only: run the suite on this database (e.g. PostgreSQL) instead of SQLite."),
    Setting("BENCH_DATABASE_URL", None, _str, None,
            "Benchmarks only: the scratch PostgreSQL database bench/intake.py and bench/queues.py use."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse CASEWORK_* variables into Flask config keys, refusing unknown names and bad values."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        setting = _BY_NAME.get(name)
        if setting is None:
            guess = difflib.get_close_matches(name, _BY_NAME, n=1)
            hint = f" Did you mean {PREFIX}{guess[0]}?" if guess else ""
            raise ConfigError(f"Unknown configuration variable {key}.{hint} See docs/configuration.md.")
        try:
            value = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{key} has an invalid value ({exc}). See docs/configuration.md.") from None
        if setting.flask_key is not None:
            config[setting.flask_key] = value
    return config


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// (and legacy postgres://) URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


MIN_SQLITE = (3, 35)  # INSERT ... ON CONFLICT DO UPDATE ... RETURNING, DELETE ... RETURNING


def check_sqlite_version(url: str) -> None:
    """Refuse an SQLite too old for the statements filing a case uses, with what to do instead."""
    if url.startswith("sqlite") and sqlite3.sqlite_version_info < MIN_SQLITE:
        raise ConfigError(
            f"This Python uses SQLite {sqlite3.sqlite_version}; Casework needs SQLite "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer. Use a newer Python build, or PostgreSQL "
            "(CASEWORK_DATABASE_URL)."
        )


def defaults(instance_path: Path) -> dict[str, Any]:
    """The configuration before environment variables and explicit overrides are applied."""
    values: dict[str, Any] = {s.flask_key: s.default for s in SETTINGS if s.flask_key}
    values.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance_path / 'casework.sqlite3'}",
        UPLOAD_DIR=str(instance_path / "uploads"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a victim may take an hour over one step
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE="UTC",
        LOGIN_RATE_LIMIT="10 per minute; 30 per hour",
        # Failed attempts to open a case in the victim's portal: per client address, and per case reference
        # (so one case cannot be guessed at from many addresses); what victims post to their case, per case.
        TRACK_RATE_LIMIT="10 per minute; 30 per hour",
        TRACK_REFERENCE_RATE_LIMIT="10 per hour; 30 per day",
        TRACK_POST_RATE_LIMIT="30 per hour; 100 per day",
        # Requests for a new private link (each may send an e-mail): per client address, and per case reference.
        TRACK_NEW_LINK_RATE_LIMIT="5 per hour; 20 per day",
        TRACK_NEW_LINK_REFERENCE_RATE_LIMIT="3 per hour; 6 per day",
        # The public verification page (/verify): checks of a document, per client address.
        VERIFY_RATE_LIMIT="20 per minute; 200 per day",
    )
    return values


def persistent_secret_key(instance_path: Path) -> str:
    """Read instance/secret_key, creating it (mode 0600) the first time."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (web or scheduler) created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
