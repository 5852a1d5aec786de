"""The roles the data migration creates hold exactly what their names promise."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from calls.roles import OPS_MANAGER, OPS_VIEWER, is_protected, roles_sync

pytestmark = pytest.mark.django_db


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_viewer_holds_only_view_permissions():
    viewer = perms(OPS_VIEWER)
    assert viewer, "the migration must create the viewer group with permissions"
    assert all(p.split(".")[1].startswith("view_") for p in viewer)
    for expected in (
        "calls.view_call",
        "calls.view_webhookevent",
        "tools.view_toolinvocation",
        "calls.view_customer",
        "assistants.view_assistant",
    ):
        assert expected in viewer


def test_manager_can_operate_but_not_manage_users_or_secrets():
    manager = perms(OPS_MANAGER)
    for expected in (
        "calls.change_customer",
        "calls.add_customer",
        "calls.change_webhookevent",
        "tools.change_appointment",
        "assistants.change_assistant",
        "calls.change_campaign",
    ):
        assert expected in manager
    forbidden = [
        p for p in manager if p.startswith(("auth.", "sessions.", "contenttypes.", "rest_framework_api_key."))
    ]
    assert forbidden == []
    assert not any("apikey" in p for p in manager)
    assert "admin.change_logentry" not in manager and "admin.view_logentry" in manager


def test_protection_rules():
    assert is_protected("auth", "user") and is_protected("auth", "group")
    assert is_protected("rest_framework_api_key", "apikey")
    assert is_protected("api", "apikey") and is_protected("voiceops", "webhooksecret")
    assert not is_protected("calls", "call")


def test_sync_restores_tampered_groups():
    group = Group.objects.get(name=OPS_VIEWER)
    group.permissions.clear()
    Group.objects.filter(name=OPS_MANAGER).delete()
    roles_sync()
    assert "calls.view_call" in perms(OPS_VIEWER)
    assert "calls.change_customer" in perms(OPS_MANAGER)
