"""Sandbox fixtures: identities per role."""

from __future__ import annotations

import pytest

from db.auth import Identity, identity_for, local_identity
from db.settings import EXAMPLE_ROLE_GROUPS


@pytest.fixture
def dev() -> Identity:
    return identity_for("dev@example.com", ["strategy-developers"], EXAMPLE_ROLE_GROUPS)


@pytest.fixture
def dev2() -> Identity:
    return identity_for("other@example.com", ["strategy-developers"], EXAMPLE_ROLE_GROUPS)


@pytest.fixture
def analyst() -> Identity:
    return identity_for("ann@example.com", ["analysts"], EXAMPLE_ROLE_GROUPS)


@pytest.fixture
def ops() -> Identity:
    return identity_for("ops@example.com", ["ops"], EXAMPLE_ROLE_GROUPS)


@pytest.fixture
def admin() -> Identity:
    return local_identity()
