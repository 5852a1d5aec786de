"""Only for migrations: calls 0001 and console 0002 name the retry-policy default by this path.

The campaign models live in ``calls.campaigns.models``.
"""

from calls.campaigns.models import default_retry_policy

__all__ = ["default_retry_policy"]
