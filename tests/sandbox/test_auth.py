"""Groups -> roles -> permissions: deny by default, union over groups, modes without login."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from db import auth
from db.errors import PermissionDenied
from db.settings import EXAMPLE_ROLE_GROUPS, load_settings


@pytest.mark.parametrize(
    ("groups", "allowed", "denied"),
    [
        (["analysts"], {auth.VIEW}, {auth.EDIT_CONFIG, auth.PURGE_CACHE, auth.RESOLVE_ERRORS}),
        (
            ["strategy-developers"],
            {auth.VIEW, auth.EDIT_CONFIG, auth.ACTIVATE_CONFIG, auth.DELETE_CONFIG},
            {auth.PURGE_CACHE, auth.RESOLVE_ERRORS},
        ),
        (
            ["ops"],
            {auth.VIEW, auth.RESOLVE_ERRORS, auth.PURGE_CACHE},
            {auth.EDIT_CONFIG, auth.ACTIVATE_CONFIG},
        ),
        (["admins"], set(auth.ALL_PERMISSIONS), set()),
        (
            ["ops", "strategy-developers"],
            {auth.EDIT_CONFIG, auth.PURGE_CACHE, auth.RESOLVE_ERRORS},
            set(),
        ),
        ([], set(), set(auth.ALL_PERMISSIONS)),
        (["marketing", "Admins", "admins "], set(), set(auth.ALL_PERMISSIONS)),  # exact names only
    ],
)
def test_permission_mapping(groups: list[str], allowed: set[str], denied: set[str]) -> None:
    who = auth.identity_for("u@example.com", groups, EXAMPLE_ROLE_GROUPS)
    assert who.mode == auth.MODE_OIDC
    assert all(who.can(p) for p in allowed)
    assert not any(who.can(p) for p in denied)


def test_role_groups_come_from_settings(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[roles]\nadmin = ["platform-team"]\nanalyst = ["everyone"]\n')
    settings = load_settings(env={}, secrets_path=secrets)
    assert settings.role_groups == {"admin": ["platform-team"], "analyst": ["everyone"]}
    who = auth.identity_for("u", ["platform-team"], settings.role_groups)
    assert who.roles == {"admin"} and who.can(auth.PURGE_CACHE)
    # A group mapped by the defaults but not by these settings grants nothing.
    assert auth.identity_for("u", ["admins"], settings.role_groups).permissions == frozenset()


def test_unknown_role_in_settings_grants_nothing() -> None:
    who = auth.identity_for("u", ["g"], {"superuser": ["g"]})
    assert who.roles == {"superuser"} and who.permissions == frozenset()


def test_modes_without_login() -> None:
    assert auth.local_identity().permissions == auth.ALL_PERMISSIONS
    ro = auth.readonly_identity()
    assert ro.can(auth.VIEW) and not ro.can(auth.EDIT_CONFIG)


def test_require_raises_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="console.auth")
    with pytest.raises(PermissionDenied):
        auth.require(auth.readonly_identity(), auth.PURGE_CACHE)
    with pytest.raises(PermissionDenied):
        auth.require(None, auth.VIEW)
    assert [r.getMessage() for r in caplog.records] == [
        "permission denied: anonymous lacks purge_cache",
        "permission denied: nobody lacks view",
    ]
    assert auth.require(auth.local_identity(), auth.PURGE_CACHE).user == "local"
