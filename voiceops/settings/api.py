"""The REST API: DRF, API-key throttling and idempotency, the OpenAPI schema."""

from voiceops.settings.core import env

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "voiceops.api.errors.api_exception_handler",
}
# API keys: per-key throttle (a key's own rate_limit wins) and Idempotency-Key timing.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
API_THROTTLE_CACHE = env.str("API_THROTTLE_CACHE", default="default")
API_IDEMPOTENCY_WAIT_SECONDS = env.float("API_IDEMPOTENCY_WAIT_SECONDS", default=5.0)
API_IDEMPOTENCY_LOCK_SECONDS = env.float("API_IDEMPOTENCY_LOCK_SECONDS", default=120.0)
API_IDEMPOTENCY_RETENTION_HOURS = env.int("API_IDEMPOTENCY_RETENTION_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "voiceops API",
    "DESCRIPTION": "Operations backend for Vapi voice agents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["voiceops.api.schema.api_endpoints_only"],
    # Choice sets whose field names repeat across resources get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "RoutingRuleActionEnum": "assistants.models.RuleAction",
        "CallControlActionEnum": "calls.models.control.ControlAction",
        "CallControlStateEnum": "calls.models.control.ControlState",
    },
    # Swagger UI and Redoc from the installed drf-spectacular-sidecar package: nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
