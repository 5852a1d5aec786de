"""Users in each ops role, and logged-in clients for them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from calls.roles import OPS_MANAGER, OPS_VIEWER

PASSWORD = "correct-horse-battery-staple-42"


def make_user(username: str, *, group: str | None = None, superuser: bool = False) -> User:
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def superuser(db) -> User:
    return make_user("root", superuser=True)


@pytest.fixture
def manager(db) -> User:
    return make_user("manager", group=OPS_MANAGER)


@pytest.fixture
def viewer(db) -> User:
    return make_user("viewer", group=OPS_VIEWER)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client(superuser) -> Client:
    return client_for(superuser)


@pytest.fixture
def manager_client(manager) -> Client:
    return client_for(manager)


@pytest.fixture
def viewer_client(viewer) -> Client:
    return client_for(viewer)
