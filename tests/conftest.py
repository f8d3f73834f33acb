"""Test fixtures: an app on a fresh database per test (SQLite, or PostgreSQL when
CASEWORK_TEST_DATABASE_URL is set), a client, and staff sign-in helpers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from casework import create_app
from casework.config import normalise_database_url
from casework.extensions import db, limiter

pytest_plugins = ["tests.fixtures.chain", "tests.fixtures.factories", "tests.fixtures.mail", "tests.fixtures.browser",
                  "tests.fixtures.sla"]

POSTGRES_URL = os.environ.get("CASEWORK_TEST_DATABASE_URL")

# On a loaded machine one example can take seconds for no fault of the code: no deadline, no
# too-slow health check, and 50 examples (Hypothesis's default is 100) where a test sets no count.
# HYPOTHESIS_PROFILE=thorough runs 1,000 examples of each of those.
settings.register_profile("casework", deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", settings.get_profile("casework"), max_examples=1_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "casework"))


def _base_config(tmp_path: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


def _migrate(database_url: str, tmp_path: Path) -> None:
    """Build the schema the way production does: through the Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app(_base_config(tmp_path, database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session: a template SQLite file, or the PostgreSQL test database."""
    tmp_path = tmp_path_factory.mktemp("db")
    if POSTGRES_URL:
        url = normalise_database_url(POSTGRES_URL)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(url, tmp_path)
        return url
    template = tmp_path / "template.sqlite3"
    _migrate(f"sqlite:///{template}", tmp_path)
    return str(template)


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        ).scalars().all()
        if tables:
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if POSTGRES_URL:
        _empty_postgres(database_template)
        return database_template
    copy = tmp_path / "casework.sqlite3"
    shutil.copyfile(database_template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application on a fresh database, inside an app context."""
    application = create_app(_base_config(tmp_path, database_url))
    limiter.reset()
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request in an app context of its own, as production does: `g` (current user,
    locale) and the database session never leak from the test or between requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client that keeps cookies (CSRF is enforced: use the `csrf_token` helper)."""
    app.test_client_class = IsolatedClient
    return app.test_client()
