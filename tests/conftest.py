"""Shared fixtures: stores on both engines, and a registered demo world."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from battrace.services.demo import DemoFirm, demo_firms, register_demo_firms
from battrace.store import Store, open_store

PG_ADMIN_URL = os.environ.get("BATTRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What battrace keeps across processes (``BATTRACE_CACHE_DIR``, docs/settings.md) goes to
    a folder of this test run, never the user's cache folder."""
    if os.environ.get("BATTRACE_CACHE_DIR"):
        yield
        return
    os.environ["BATTRACE_CACHE_DIR"] = str(tmp_path_factory.mktemp("battrace-cache"))
    try:
        yield
    finally:
        os.environ.pop("BATTRACE_CACHE_DIR", None)


def _pg_up() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _start_pg() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        return
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False,
        capture_output=True,
    )
    for _ in range(30):
        if _pg_up():
            return
        time.sleep(0.5)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database made for this test run and dropped after it."""
    if not _pg_up():
        _start_pg()
    if not _pg_up():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} and could not be started")
    name = f"battrace_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fresh_pg(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on each engine (the conformance suite runs on both)."""
    if request.param == "sqlite":
        target = str(tmp_path / "battrace.db")
    else:
        target = request.getfixturevalue("pg_database")
        _fresh_pg(target)
    s = open_store(target)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "battrace.db")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def firms() -> dict[str, DemoFirm]:
    """The first demo enterprise of each role, by role."""
    found: dict[str, DemoFirm] = {}
    for firm in demo_firms():
        found.setdefault(firm.roles[0], firm)
    return found


@pytest.fixture
def world(store: Store) -> Store:
    """A store (each engine) with the demo enterprises registered."""
    register_demo_firms(store)
    return store


@pytest.fixture
def sqlite_world(sqlite_store: Store) -> Store:
    register_demo_firms(sqlite_store)
    return sqlite_store
