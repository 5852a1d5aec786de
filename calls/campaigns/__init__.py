"""Outbound campaigns as one unit: the dialer, the compliance gate and the decision ledger.

``models`` (registered through ``calls.models``, app label ``calls``), ``services/`` (writes),
``selectors`` (reads), ``tasks`` (Celery shells), ``admin/``, ``api``, ``serializers``,
``filters``. Nothing is imported here: ``calls.models`` loads ``calls.campaigns.models`` while
the app registry is still being populated.
"""
