"""The staff-account commands and the database check, run through Flask's CLI runner."""

from casework.models import Role, User
from casework.services.users import authenticate


def test_users_create_prompts_for_the_password_and_hashes_it(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "Ann@Example.org", "--role", "supervisor"],
                           input="a long enough secret\na long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "Created supervisor ann@example.org" in result.output
    user = app.extensions["sqlalchemy"].session.query(User).filter_by(email="ann@example.org").one()
    assert user.role is Role.SUPERVISOR
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough secret" not in user.password_hash
    assert authenticate("ann@example.org", "a long enough secret") is not None


def test_users_create_refuses_short_passwords_and_duplicates_in_one_line(app, make_user):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["users", "create", "--email", "b@example.org", "--role", "handler"],
                          input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    existing = make_user(Role.HANDLER)
    duplicate = runner.invoke(args=["users", "create", "--email", existing.email, "--role", "handler"],
                              input="another long secret\nanother long secret\n")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    assert "Traceback" not in short.output + duplicate.output


def test_users_list_shows_every_account(app, make_user):
    handler, admin = make_user(Role.HANDLER), make_user(Role.ADMIN)
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert f"{handler.email}\thandler\tactive" in result.output
    assert f"{admin.email}\tadmin\tactive" in result.output


def test_check_reports_an_unreachable_database_in_one_line(tmp_path):
    from casework import create_app

    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none"})
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "Cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/none" in result.output
    assert "Traceback" not in result.output
