"""The admin index a clinic manager reads: ops models first, plumbing under "System".

Django groups the index by app; ops staff think in tasks. ``console_app_list`` regroups the
registered models into named sections (unknown models land in System, so nothing is lost).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest

SECTIONS: list[tuple[str, list[str]]] = [
    (
        "Calls and campaigns",
        [
            "calls.call",
            "calls.campaign",
            "calls.campaignrecipient",
            "calls.customer",
            "calls.outboundswitch",
            "calls.dispatchdecision",
        ],
    ),
    ("Appointments and tools", ["tools.appointment", "tools.resource", "tools.tool", "tools.toolinvocation"]),
    ("Assistants and phone numbers", ["assistants.assistant", "assistants.phonenumber"]),
]
SYSTEM = "System"


def console_app_list(
    site: AdminSite, request: HttpRequest, app_label: str | None = None
) -> list[dict[str, Any]]:
    """The index's sections; an app's own page (``app_label``) keeps Django's grouping."""
    apps = AdminSite.get_app_list(site, request, app_label)
    if app_label is not None:
        return apps
    models = {
        f"{app['app_label']}.{m['object_name'].lower()}": (app, m) for app in apps for m in app["models"]
    }
    sections: list[dict[str, Any]] = []
    for name, keys in SECTIONS:
        found = [models.pop(key) for key in keys if key in models]
        if found:
            app = found[0][0]
            sections.append(
                {**app, "name": name, "app_label": app["app_label"], "models": [m for _, m in found]}
            )
    if models:
        rest = sorted(models.values(), key=lambda pair: (pair[0]["name"], pair[1]["name"]))
        sections.append(
            {
                "name": SYSTEM,
                "app_label": "system",
                "app_url": "#system",
                "has_module_perms": True,
                "models": [{**m, "name": f"{m['name']} ({app['name']})"} for app, m in rest],
            }
        )
    return sections
