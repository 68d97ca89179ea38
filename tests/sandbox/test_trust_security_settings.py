"""Fail closed on broken settings: a secrets file that does not parse, a malformed [auth] or [roles]
is a problem the console stops on, never a fallback to more power (issue 12, Security)."""

from __future__ import annotations

from pathlib import Path

import pytest

from db import auth
from db.settings import auth_problems, load_settings, role_groups_from

GOOD_AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret-0123456789",
    "client_id": "console",
    "client_secret": "s3cret",
    "server_metadata_url": "https://idp.example.internal/.well-known/openid-configuration",
}


def _secrets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_secrets_file_that_does_not_parse_is_a_problem_not_an_empty_file(tmp_path: Path) -> None:
    # The case: an unterminated string in [auth] used to read as "no secrets at all".
    path = _secrets(
        tmp_path, '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\nclient_id = "c\n'
    )
    s = load_settings(env={}, secrets_path=path)
    assert s.problems == (
        "A secrets file does not parse (line 3, column 15); see the server log for which.",
    )
    # No demo data is loaded into a database the operator did not choose.
    assert not s.is_default_sqlite
    # The message never shows the file's path or its content.
    assert str(tmp_path) not in s.problems[0] and '"c' not in s.problems[0]


def test_a_file_that_is_not_text_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_bytes(b'[database]\nurl = "\xff\xfe"\n')
    s = load_settings(env={}, secrets_path=path)
    assert s.problems and "does not parse" in s.problems[0]


def test_the_environment_url_still_wins_but_the_problem_stays(tmp_path: Path) -> None:
    path = _secrets(tmp_path, "not [ toml")
    s = load_settings(env={"DATABASE_URL": "sqlite:///x.db"}, secrets_path=path)
    assert s.database_url == "sqlite:///x.db" and len(s.problems) == 1


@pytest.mark.parametrize("text", ["", '[database]\nurl = "sqlite:///a.db"\n'])
def test_no_roles_section_means_no_role_groups(tmp_path: Path, text: str) -> None:
    # Before: the built-in names (admins, ops, ...) silently applied, so an IdP group called
    # "admins" was admin of the console without anybody having said so.
    s = load_settings(env={}, secrets_path=_secrets(tmp_path, text))
    assert s.role_groups == {} and s.problems == ()
    assert auth.identity_for("u", ["admins"], s.role_groups).permissions == frozenset()


def test_a_missing_file_has_no_problem_and_no_roles(tmp_path: Path) -> None:
    s = load_settings(env={}, secrets_path=tmp_path / "missing.toml")
    assert s.problems == () and s.role_groups == {} and s.is_default_sqlite


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("x", "[roles] must be a section of role = [group names]."),
        (
            {"ops": "ops"},
            '[roles] ops must be a list of group names, like ops = ["group-a", "group-b"].',
        ),
        (
            {"ops": ["ops", 3]},
            '[roles] ops must be a list of group names, like ops = ["group-a", "group-b"].',
        ),
        (
            {"ops": ["ops", " "]},
            '[roles] ops must be a list of group names, like ops = ["group-a", "group-b"].',
        ),
        (
            {"admins": ["admins"]},
            "[roles] names an unknown role 'admins' (the roles are admin, analyst, ops, strategy_developer).",
        ),
    ],
)
def test_a_malformed_roles_section_is_a_problem_and_grants_nothing(
    raw: object, problem: str
) -> None:
    groups, found = role_groups_from(raw)
    assert groups == {} and found == problem


def test_a_malformed_roles_entry_spoils_the_whole_section(tmp_path: Path) -> None:
    path = _secrets(tmp_path, '[roles]\nadmin = ["platform"]\nops = "ops"\n')
    s = load_settings(env={}, secrets_path=path)
    assert s.role_groups == {}
    assert s.problems == (
        '[roles] ops must be a list of group names, like ops = ["group-a", "group-b"].',
    )


def test_valid_roles_and_empty_lists() -> None:
    assert role_groups_from({"admin": ["platform"], "ops": []}) == (
        {"admin": ["platform"], "ops": []},
        None,
    )
    assert role_groups_from(None) == ({}, None)
    assert role_groups_from({}) == ({}, None)


def test_a_complete_auth_section_has_no_problem() -> None:
    assert auth_problems(None) == []
    assert auth_problems(GOOD_AUTH) == []
    provider = {k: GOOD_AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    nested = {
        "redirect_uri": GOOD_AUTH["redirect_uri"],
        "cookie_secret": "x" * 32,
        "default": provider,
    }
    assert auth_problems(nested) == []


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (
            "yes",
            [
                "[auth] must be a section with redirect_uri, cookie_secret, client_id, client_secret and "
                "server_metadata_url."
            ],
        ),
        (
            {},
            [
                "[auth] has no redirect_uri.",
                "[auth] has no cookie_secret.",
                "[auth] has no client_id.",
                "[auth] has no client_secret.",
                "[auth] has no server_metadata_url.",
            ],
        ),
        ({**GOOD_AUTH, "client_secret": ""}, ["[auth] has no client_secret."]),
        ({**GOOD_AUTH, "cookie_secret": 12345}, ["[auth] has no cookie_secret."]),
        (
            {**GOOD_AUTH, "redirect_uri": "http://localhost:8501/"},
            ["[auth] redirect_uri must end with /oauth2callback."],
        ),
        (
            {**GOOD_AUTH, "default": "x"},
            [
                "[auth.default] must be a section with client_id, client_secret and server_metadata_url."
            ],
        ),
    ],
)
def test_a_malformed_auth_section_says_what_is_wrong(raw: object, problems: list[str]) -> None:
    assert auth_problems(raw) == problems


def test_a_malformed_auth_section_in_the_file_is_a_settings_problem(tmp_path: Path) -> None:
    path = _secrets(tmp_path, '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    s = load_settings(env={}, secrets_path=path)
    assert "[auth] has no cookie_secret." in s.problems


def test_the_committed_example_has_no_problem() -> None:
    from db.settings import ROOT

    s = load_settings(env={}, secrets_path=ROOT / ".streamlit" / "secrets.toml.example")
    assert s.problems == ()
    assert set(s.role_groups) == set(auth.ROLE_PERMISSIONS)
