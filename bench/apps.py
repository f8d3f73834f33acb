"""Applications for the benchmarks: a fresh PostgreSQL schema or SQLite file per run, migrated by create_app."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DATABASE_URL = os.environ.get("CASEWORK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/casework_bench")


def postgres_app(schema: str, **config: Any) -> Flask:
    """An app on a fresh schema of the benchmark database (created if missing), with config on top."""
    from casework import create_app
    from casework.config import normalise_database_url

    url = normalise_database_url(DATABASE_URL)
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}):
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # Once per database, in public: every schema's migrations then find it (CREATE EXTENSION IF NOT EXISTS).
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    # public stays on the search path for pg_trgm's operator classes.
    return create_app({"SQLALCHEMY_DATABASE_URI": url,
                       "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema},public"}},
                       **config})


def sqlite_app(directory: str, name: str, **config: Any) -> Flask:
    """An app on a new SQLite file in directory."""
    from casework import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/{name}.sqlite3", **config})
