"""Fixtures of the office tests: an office on SQLite and on PostgreSQL (``database_url`` of
the root conftest is parametrised), the sample province, a real hub over HTTP.

This folder is a package (``__init__.py``) so that this conftest and the helpers in
:mod:`officekit` never shadow the root ``conftest`` module of the other tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lienthong.edxml.model import Edoc
from lienthong.office import hubsync
from lienthong.office.runtime import Office

from .officekit import HubWorld, Province, edoc, make_office, provision, start_hub


@pytest.fixture
def office(database_url: str, tmp_path: Path) -> Iterator[Office]:
    """An empty office on SQLite or PostgreSQL (both run: ``database_url`` is parametrised)."""
    instance = make_office(database_url, tmp_path)
    yield instance
    instance.close()


@pytest.fixture
def province(office: Office) -> Province:
    return provision(office)


@pytest.fixture
def hub_world(tmp_path: Path) -> Iterator[HubWorld]:
    """A real hub over HTTP (its own SQLite), no push callback: the office polls."""
    world, server = start_hub(tmp_path)
    yield world
    world.sender.close()
    server.stop()
    world.hub.close()


@pytest.fixture
def connected(office: Office, province: Province, hub_world: HubWorld) -> HubWorld:
    office.run(
        lambda s: hubsync.connect(
            s, hub_url=hub_world.url, api_key=hub_world.office_key, push_secret=""
        )
    )
    return hub_world


@pytest.fixture
def make_doc() -> Callable[..., Edoc]:
    return edoc
