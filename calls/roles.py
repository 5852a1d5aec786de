"""The two ops roles as code: which permissions "Ops viewer" and "Ops manager" hold.

Rules rather than lists, so models other areas add later are covered automatically:
- viewer: every ``view_*`` permission outside the protected set;
- manager: every permission outside the protected set (view on the admin log only).
The protected set is user management (auth users/groups/permissions, lockouts) and secrets
(sessions, API keys). ``roles_sync`` runs in the data migration that creates the groups and
again after every ``migrate`` (post_migrate, see CallsConfig.ready) so new models' permissions
join the roles; the groups' permissions are reset to exactly what the rules say.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

OPS_VIEWER = "Ops viewer"
OPS_MANAGER = "Ops manager"

PROTECTED_APPS = frozenset({"auth", "sessions", "contenttypes", "rest_framework_api_key", "axes"})
SECRET_MODEL_WORDS = ("apikey", "api_key", "secret", "credential", "token")
VIEW_ONLY_MODELS = frozenset({("admin", "logentry")})


def is_protected(app_label: str, model: str) -> bool:
    """User management and anything holding secrets stay with superusers."""
    return app_label in PROTECTED_APPS or any(word in model for word in SECRET_MODEL_WORDS)


def role_permission_ids(*, apps: Any = global_apps) -> dict[str, list[int]]:
    """Permission ids per role name, computed from the rules above."""
    Permission = apps.get_model("auth", "Permission")
    viewer: list[int] = []
    manager: list[int] = []
    rows = Permission.objects.values_list("id", "codename", "content_type__app_label", "content_type__model")
    for pk, codename, app_label, model in rows:
        if is_protected(app_label, model):
            continue
        is_view = codename.startswith("view_")
        if is_view:
            viewer.append(pk)
        if is_view or (app_label, model) not in VIEW_ONLY_MODELS:
            manager.append(pk)
    return {OPS_VIEWER: viewer, OPS_MANAGER: manager}


def roles_sync(*, apps: Any = global_apps) -> None:
    """Create the two groups if missing and set their permissions to exactly the rules' result."""
    Group = apps.get_model("auth", "Group")
    for name, ids in role_permission_ids(apps=apps).items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(ids)


def ensure_permissions(*, apps: Any = global_apps) -> None:
    """Create missing permission rows now (Django normally does it after migrate, too late for us)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        had_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = had_module


def roles_sync_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: keep the roles complete as apps add models."""
    apps = kwargs.get("apps") or global_apps
    try:
        apps.get_model("auth", "Group")
    except LookupError:
        return
    ensure_permissions(apps=apps)
    roles_sync(apps=apps)
