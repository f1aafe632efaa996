"""Database engines and sessions: SQLite (embedded default) and PostgreSQL, one code path.

SQLite is made safe for a queue: WAL, ``BEGIN IMMEDIATE`` for every transaction (no
deferred lock upgrades failing with "database is locked"), a busy timeout and foreign
keys. PostgreSQL goes through psycopg 3. Migrations are Alembic's, run on start.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
P = ParamSpec("P")
#: Constraint and index names every schema of the product uses (stable across databases,
#: so migrations can name what they change).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Times are stored in UTC."""
    return datetime.now(UTC)


#: Execution option marking a read-only unit of work (see :func:`read_only_factory`).
READ_ONLY = "lienthong_read_only"
#: PostgreSQL advisory lock key serialising migrations (any constant; "lienthon" in ASCII).
MIGRATION_LOCK = 0x6C69656E74686F6E


def normalise_url(url: str) -> str:
    """``postgresql://`` (as operators write it) → the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact_url(url: str) -> str:
    """A database URL fit for a message: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy reads: show only its scheme
        return url.split(":", 1)[0] + ":…"


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_hooks(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # writers take the lock up front; read-only units of work (``READ_ONLY``) do not,
        # so polls and lookups never queue behind writers in SQLite's busy-wait
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, info=info)


def read_only_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions for units of work that only read (no write lock taken on SQLite)."""
    return sessionmaker(
        engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, info=info
    )


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def migrate(engine: Engine, migrations: Path) -> None:
    """Bring the schema to the newest revision of the Alembic scripts in ``migrations``
    (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        if is_postgresql(engine):
            # processes starting together queue here (until this transaction ends)
            # instead of racing to create the same tables and types
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """An engine brought to the newest schema of the Alembic scripts in ``migrations``, and
    its units of work. The edge owns the transaction: a request, a command or a worker runs
    ``fn(session, …)`` through :meth:`run` (one transaction) or :meth:`read` (read-only).

    On SQLite the process's writers queue on a lock of ours first: SQLite itself would make
    them sleep-and-retry (busy timeout), which is unfair and slow under load."""

    def __init__(
        self, engine: Engine, migrations: Path, *, info: dict[str, Any] | None = None
    ) -> None:
        """``info`` is given to every session (``session.info``), e.g. a key ring."""
        self.engine = engine
        migrate(engine, migrations)
        self.sessions: sessionmaker[Session] = session_factory(engine, info)
        self.read_sessions: sessionmaker[Session] = read_only_factory(engine, info)
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self._write_lock:
            session = self.sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(session, *args, **kwargs)`` in a transaction; a lost race on a unique key or
        a lock timeout is retried up to three times (``fn`` must be idempotent up to its
        commit). See :meth:`run_once` for a single attempt."""
        for attempt in range(3):
            try:
                with self.session() as s:
                    return fn(s, *args, **kwargs)
            except (IntegrityError, OperationalError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def run_once(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(session, …)`` in a transaction, not retried."""
        with self.session() as s:
            return fn(s, *args, **kwargs)

    def read(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A read-only ``fn(session, …)`` (no write lock on SQLite; rolled back, never
        committed)."""
        session = self.read_sessions()
        try:
            return fn(session, *args, **kwargs)
        finally:
            session.close()  # ends the transaction; loaded objects stay usable (detached)

    def close(self) -> None:
        self.engine.dispose()
