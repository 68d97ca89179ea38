"""Roles and permissions: who may do what. Deny by default; several groups give the union."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from db.errors import PermissionDenied

log = logging.getLogger("console.auth")

VIEW = "view"
EDIT_CONFIG = "edit_config"
ACTIVATE_CONFIG = "activate_config"
DELETE_CONFIG = "delete_config"
RESOLVE_ERRORS = "resolve_errors"
PURGE_CACHE = "purge_cache"
ALL_PERMISSIONS = frozenset(
    {VIEW, EDIT_CONFIG, ACTIVATE_CONFIG, DELETE_CONFIG, RESOLVE_ERRORS, PURGE_CACHE}
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "analyst": frozenset({VIEW}),
    "strategy_developer": frozenset({VIEW, EDIT_CONFIG, ACTIVATE_CONFIG, DELETE_CONFIG}),
    "ops": frozenset({VIEW, RESOLVE_ERRORS, PURGE_CACHE}),
    "admin": ALL_PERMISSIONS,
}

MODE_OIDC = "oidc"  # signed in through the OIDC provider
MODE_LOCAL = (
    "local"  # no login configured, server bound to and reached as localhost: every permission
)
MODE_READONLY = (
    "readonly"  # no login configured, server reachable from elsewhere (or reached by another name)
)
MODE_ANONYMOUS = "anonymous"  # login configured but nobody signed in: nothing


@dataclass(frozen=True)
class Identity:
    """The user a write is done by, their roles and the permissions those grant."""

    user: str
    mode: str
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    # Why this identity has less power than its mode usually gives (shown under it), or "".
    note: str = ""

    def can(self, permission: str) -> bool:
        """True when this identity holds `permission`."""
        return permission in self.permissions


def roles_for_groups(
    groups: Iterable[str], role_groups: Mapping[str, Iterable[str]]
) -> frozenset[str]:
    """The roles whose configured groups intersect the user's groups."""
    mine = {str(g) for g in groups}
    return frozenset(role for role, gs in role_groups.items() if mine & {str(g) for g in gs})


def permissions_for_roles(roles: Iterable[str]) -> frozenset[str]:
    """The union of the permissions of `roles`; unknown roles grant nothing."""
    out: set[str] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(out)


def identity_for(
    user: str, groups: Iterable[str], role_groups: Mapping[str, Iterable[str]]
) -> Identity:
    """A signed-in user's identity from their groups."""
    roles = roles_for_groups(groups, role_groups)
    return Identity(
        user=user, mode=MODE_OIDC, roles=roles, permissions=permissions_for_roles(roles)
    )


def local_identity() -> Identity:
    """The identity of local mode (no login, localhost only): every permission."""
    return Identity(
        user="local", mode=MODE_LOCAL, roles=frozenset({"admin"}), permissions=ALL_PERMISSIONS
    )


def readonly_identity() -> Identity:
    """The identity when no login is configured and the server is reachable from elsewhere."""
    return Identity(
        user="anonymous", mode=MODE_READONLY, roles=frozenset(), permissions=frozenset({VIEW})
    )


def require(identity: Identity | None, permission: str) -> Identity:
    """Raise PermissionDenied (and log it) unless `identity` holds `permission`."""
    if identity is None or not identity.can(permission):
        who = identity.user if identity else "nobody"
        log.warning("permission denied: %s lacks %s", who, permission)
        raise PermissionDenied(f"{who} may not {permission.replace('_', ' ')}")
    return identity
