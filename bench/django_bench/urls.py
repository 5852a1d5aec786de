"""voiceops URLs plus ``POST /bench/bare/``: the cheapest JSON answer Django can give."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from voiceops.urls import urlpatterns as voiceops_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    request.body  # noqa: B018 - read the body like the webhook does
    return JsonResponse({})


urlpatterns = [path("bench/bare/", bare), *voiceops_urlpatterns]
