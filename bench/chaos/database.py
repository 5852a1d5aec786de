"""A scratch database of the bench scripts' own: ``<your DATABASE_URL database>_<suffix>``.

Dropped and created again on each run, so a bench never writes to the database a developer
(or the test suite) works in. ``.env`` is read like Django's settings read it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def dotenv() -> dict[str, str]:
    """The environment with ``.env`` defaults filled in (the environment wins)."""
    env = dict(os.environ)
    path = ROOT / ".env"
    for line in path.read_text().splitlines() if path.exists() else []:
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env.setdefault(key.strip(), value.strip())
    return env


def private_database(suffix: str, *, fast_commits: bool = False) -> str:
    """Create ``<database>_<suffix>`` afresh; return its URL.

    ``fast_commits``: no wait for the disk on commit (a scratch database loses nothing of value).
    """
    import psycopg

    base = urlsplit(dotenv().get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceops"))
    name = f"{base.path.lstrip('/')}_{suffix}"
    with psycopg.connect(urlunsplit(base._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        if fast_commits:
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return urlunsplit(base._replace(path="/" + name))


def drop_database(url: str) -> None:
    """Drop a database made by ``private_database`` (its connections are closed first)."""
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
