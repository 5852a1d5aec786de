"""Fixtures for fault tests: switchable proxies in front of the shared Postgres and Redis."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from tests.faults.proxy import TcpProxy


def redis_target() -> tuple[str, int, str]:
    url = urlparse(settings.REDIS_URL)
    return url.hostname or "127.0.0.1", url.port or 6379, url.path or "/0"


@pytest.fixture
def pg_proxy(transactional_db):
    """Route the default DB connection through a proxy the test can take down and bring back."""
    target_port = int(connection.settings_dict.get("PORT") or 5432)
    proxy = TcpProxy(target_port, target_host=connection.settings_dict.get("HOST") or "127.0.0.1").start()
    saved = {k: connection.settings_dict.get(k) for k in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    try:
        yield proxy
    finally:
        proxy.stop()
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture
def redis_proxy(settings):
    host, port, db = redis_target()
    proxy = TcpProxy(port, target_host=host).start()
    settings.REDIS_URL = f"redis://127.0.0.1:{proxy.port}{db}"
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def private_redis_db() -> int:
    """Our own Redis db number (from .env) for brokers started by fault tests."""
    return int(redis_target()[2].strip("/") or 0)


@pytest.fixture
def fault_dir():
    """A private scratch directory for markers and process logs.

    Not pytest's tmp_path: the machine is shared, and another engineer's pytest run prunes
    old directories under the shared basetemp, which would delete a marker mid-test.
    """
    import shutil
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="voiceops-faults-"))
    yield path
    if not os.environ.get("KEEP_FAULT_DIR"):
        shutil.rmtree(path, ignore_errors=True)
