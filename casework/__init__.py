"""Casework: the application package. `create_app()` builds the Flask app; nothing is built at import."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from casework import config as config_module
from casework.extensions import babel, csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application from defaults, CASEWORK_* environment variables, then `config` overrides."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    instance = Path(app.instance_path)
    app.config.update(config_module.defaults(instance))
    app.config.update(config_module.read_environment())
    app.config.update(config or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    config_module.check_sqlite_version(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.persistent_secret_key(instance)
    if app.config["HTTPS"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    logging.basicConfig(level=app.config["LOG_LEVEL"].upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")

    # SQL errors name the statement, never its values (a victim's name or e-mail) in logs and tracebacks.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                                               "hide_parameters": True}
    _init_extensions(app)
    _register_blueprints(app)

    from casework import cli, security, web
    from casework.services import chains

    chains.init_app(app)
    security.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from casework import i18n, models  # noqa: F401  (registers every table for migrations)
    from casework.models import aggregates
    from casework.services import users

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _enforce_foreign_keys)
                event.listen(engine, "connect", aggregates.register_sqlite_functions)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, default_translation_directories=str(
        PROJECT_ROOT / "casework" / "translations"))
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    login_manager.user_loader(users.load_user)


def _enforce_foreign_keys(dbapi_connection, _connection_record) -> None:
    """SQLite checks foreign keys only on connections that ask, and only outside a transaction: ask as each one
    opens (migrations/env.py turns them off for the migration's own connection while tables are rebuilt)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from casework.views import (
        admin,
        alerts,
        auth,
        console,
        dashboard,
        directory,
        documents,
        evidence,
        labels,
        public,
        referrals,
        report,
        sla,
        tokens,
        track,
    )

    for module in (public, auth, console, admin, directory, evidence, labels, track, report, dashboard, tokens,
                   referrals, alerts, sla, documents):
        app.register_blueprint(module.bp)

    from casework import api

    api.init_app(app)
