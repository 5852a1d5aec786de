"""The test databases, made and cleaned quickly: `make test` runs pytest four times (the clock
check's three shifted runs, then the suite), each with one database per xdist worker.

- **Made from a template.** Migrating a new test database from nothing took each worker
  13-14 s per run on a 2-core machine. The migrated schema is kept once as a template
  database named by a hash of every migration file and of the requirements (so a new or
  edited migration, or an upgraded library, gets a new one), made by the controlling
  process before any worker starts. Django then creates each worker's database with
  ``CREATE DATABASE ... TEMPLATE`` and ``migrate`` finds nothing left to do.
- **Cleaned with DELETE.** After a ``transaction=True`` test Django flushes every table with
  one TRUNCATE and re-runs ``post_migrate`` (content types, permissions, roles): 0.8 s a
  test here, for tables that hold a handful of rows. Deleting the rows in one transaction
  (the foreign keys are deferred to its commit) and re-syncing only the roles leaves the
  same state in 0.05 s. Content types and permissions are kept as migrate made them; the
  roles are made again from them, as ``post_migrate`` would.
- **Dropped without waiting.** A test's thread that kept its connection made the final
  ``DROP DATABASE`` wait 5 s and fail, leaving the database behind; those connections are
  ended first.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

_ROOT = Path(__file__).resolve().parent.parent
_KEPT_TABLES = {"django_content_type", "auth_permission"}


def _schema_hash() -> str:
    digest = hashlib.sha256()
    sources = sorted(_ROOT.glob("*/migrations/*.py")) + sorted(_ROOT.glob("*/*/migrations/*.py"))
    for path in [*sources, _ROOT / "requirements.txt"]:
        digest.update(str(path.relative_to(_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _admin_connect(settings_dict: dict) -> psycopg.Connection:
    return psycopg.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=True,
    )


def _template_ensure(settings_dict: dict, name: str) -> None:
    """Make the template if it is missing: migrated under a temporary name, then renamed, so a
    run that dies half-way never leaves a half-migrated template behind."""
    with _admin_connect(settings_dict) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        building = f"{name}_{os.getpid()}"
        admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
        admin.execute(f'CREATE DATABASE "{building}"')
        user = settings_dict.get("USER") or ""
        credentials = f"{user}:{settings_dict.get('PASSWORD') or ''}@" if user else ""
        host = f"{settings_dict.get('HOST') or ''}:{settings_dict.get('PORT') or 5432}"
        url = f"postgres://{credentials}{host}/{building}"
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=_ROOT,
            env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            capture_output=True,
            text=True,
            check=False,
        )
        if migrated.returncode != 0:
            admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
            raise pytest.UsageError(f"could not migrate the test template:\n{migrated.stderr[-3000:]}")
        try:
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        except Exception:  # noqa: BLE001 - another run made it first: use theirs
            admin.execute(f'DROP DATABASE IF EXISTS "{building}"')


def pytest_configure(config: pytest.Config) -> None:
    """Every process names the template; the controlling one (xdist workers have ``workerinput``)
    makes it, before any worker creates its database."""
    from django.conf import settings

    if not settings.configured:
        return
    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if test.get("TEMPLATE"):
        return
    test["TEMPLATE"] = f"test_{database['NAME']}_tpl_{_schema_hash()}"
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        _template_ensure(database, test["TEMPLATE"])


def connections_end() -> None:
    """End every other session on the test databases (before they are dropped)."""
    from django.db import connections

    for connection in connections.all():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()


def _fixture_teardown(self: object) -> None:
    """``TransactionTestCase._fixture_teardown`` without TRUNCATE and ``post_migrate``."""
    from django.db import connections, transaction

    from calls.roles import roles_sync

    for alias in self._databases_names(include_mirrors=False):  # type: ignore[attr-defined]
        connection = connections[alias]
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        quote = connection.ops.quote_name
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(
                "SET CONSTRAINTS ALL DEFERRED; "
                + "; ".join(
                    f"DELETE FROM {quote(table)}" for table in sorted(tables) if table not in _KEPT_TABLES
                )
            )
        roles_sync()


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.test import TransactionTestCase

    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[attr-defined]
