"""The project's URLs plus ``POST /bench/bare/``: the cheapest Django JSON answer, as a baseline."""

import json

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request):
    """Parse the body and answer JSON: no auth, no database (the floor of the web tier)."""
    body = json.loads(request.body or b"{}")
    results = [
        {"toolCallId": c.get("id", ""), "name": "bare", "result": "ok"}
        for c in (body.get("message") or {}).get("toolCallList") or []
    ]
    return HttpResponse(json.dumps({"results": results}), content_type="application/json")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("voiceops.urls")),
]
