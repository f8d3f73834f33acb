"""Configuration from CASEWORK_* variables: defaults, parsing, clear errors."""

import pytest

from casework.config import (
    ConfigError,
    check_sqlite_version,
    normalise_database_url,
    persistent_secret_key,
    read_environment,
)


def test_known_variables_are_parsed_into_flask_settings():
    config = read_environment({
        "CASEWORK_DATABASE_URL": "postgresql://u@h/db",
        "CASEWORK_MAIL_PORT": " 2525 ",
        "CASEWORK_HTTPS": "yes",
        "PATH": "/usr/bin",
    })
    assert config == {"SQLALCHEMY_DATABASE_URI": "postgresql://u@h/db", "MAIL_PORT": 2525, "HTTPS": True}


def test_a_misspelt_variable_is_refused_with_a_suggestion():
    with pytest.raises(ConfigError) as error:
        read_environment({"CASEWORK_DATABSE_URL": "sqlite://"})
    message = error.value.format_message()
    assert "CASEWORK_DATABSE_URL" in message and "Did you mean CASEWORK_DATABASE_URL?" in message
    assert "\n" not in message


@pytest.mark.parametrize("name, value", [("CASEWORK_MAIL_PORT", "twenty-five"), ("CASEWORK_HTTPS", "maybe"),
                                         ("CASEWORK_STAFF_TIMEZONE", "Asia/Shangai"),
                                         ("CASEWORK_STAFF_TIMEZONE", "../../etc/passwd"),
                                         ("CASEWORK_SLA_DIGEST_HOUR", "24")])
def test_a_value_of_the_wrong_shape_is_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        read_environment({name: value})


def test_the_staff_time_zone_and_the_digest_hour_are_read():
    assert read_environment({"CASEWORK_STAFF_TIMEZONE": " Europe/Berlin ", "CASEWORK_SLA_DIGEST_HOUR": "7"}) == {
        "STAFF_TIMEZONE": "Europe/Berlin", "SLA_DIGEST_HOUR": 7}


def test_the_test_and_bench_database_variables_are_known_but_not_app_settings():
    assert read_environment({"CASEWORK_TEST_DATABASE_URL": "postgresql://x"}) == {}
    assert read_environment({"CASEWORK_BENCH_DATABASE_URL": "postgresql://y"}) == {}


def test_an_sqlite_too_old_for_filing_is_refused_with_what_to_do(monkeypatch):
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(ConfigError, match=r"SQLite 3\.31\.1; Casework needs SQLite 3\.35 or newer.*PostgreSQL"):
        check_sqlite_version("sqlite:////tmp/x.sqlite3")
    check_sqlite_version("postgresql+psycopg://postgres@127.0.0.1/test")  # PostgreSQL is not concerned


def test_plain_postgresql_urls_use_psycopg3():
    assert normalise_database_url("postgresql://postgres@127.0.0.1/test") == "postgresql+psycopg://postgres@127.0.0.1/test"
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = persistent_secret_key(tmp_path)
    assert len(first) == 64
    assert persistent_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_create_app_refuses_unknown_variables(monkeypatch):
    from casework import create_app

    monkeypatch.setenv("CASEWORK_MAIL_SERVR", "smtp.example.org")
    with pytest.raises(ConfigError, match="CASEWORK_MAIL_SERVER"):
        create_app({"SECRET_KEY": "k"})


def test_every_setting_is_documented():
    from pathlib import Path

    from casework.config import SETTINGS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    undocumented = [s.name for s in SETTINGS if f"`CASEWORK_{s.name}`" not in doc]
    assert undocumented == []


def test_chain_registry_comes_from_casework_chains_with_the_devnet_url(database_url):
    from casework import create_app
    from casework.services import chains

    app = create_app({
        "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url, "DEVNET_RPC_URL": "http://127.0.0.1:9999",
        "CHAINS": '[{"chain_id": 1, "rpc_urls": ["https://rpc.example.org/KEY"]}]',
    })
    with app.app_context():
        assert chains.chain(1).rpc_urls == ("https://rpc.example.org/KEY",)
        assert chains.chain(31337).rpc_urls == ("http://127.0.0.1:9999",)
        assert chains.chain_name(56) == "BNB Smart Chain"


def test_a_broken_chain_registry_stops_start_up_in_one_line(database_url):
    from casework import create_app

    with pytest.raises(ConfigError) as error:
        create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url, "CHAINS": '[{"chain_id": "x"}]'})
    message = error.value.format_message()
    assert message.startswith("CASEWORK_CHAINS: ") and "\n" not in message
