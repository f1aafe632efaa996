"""Hub processes starting together on an empty PostgreSQL all migrate it (no
UniqueViolation)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from lienthong.core.db import make_engine
from lienthong.hub.models import AuditHead
from support import PG_URL, _schema_url, postgresql_reachable

H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
TIMEOUT = 120


# ------------------------------------------------------------------------- migrations

_MIGRATE = """
import sys
from lienthong.core.db import make_engine, migrate
from lienthong.hub.runtime import MIGRATIONS
engine = make_engine(sys.argv[1])
with engine.connect():
    pass
print("ready", flush=True)
sys.stdin.readline()
migrate(engine, MIGRATIONS)
engine.dispose()
print("migrated", flush=True)
"""


@pytest.fixture
def empty_pg_schema() -> Iterator[str]:
    if not postgresql_reachable():
        pytest.skip("no PostgreSQL reachable at LIENTHONG_TEST_DATABASE_URL")
    schema = f"lt_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_three_processes_migrate_an_empty_postgresql_together(empty_pg_schema: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, empty_pg_schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for p in procs:  # all imported and connected ...
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # ... then released at once
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outcomes = [p.communicate(timeout=TIMEOUT) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outcomes, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "migrated"
    engine = make_engine(empty_pg_schema)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert len(versions) == 1
            conn.execute(select(AuditHead)).all()  # the schema is there
    finally:
        engine.dispose()
