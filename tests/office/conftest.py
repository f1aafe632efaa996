"""The office's fixtures (defined in ``office_world.py``, which tests import their helpers
from: a module named ``conftest`` is not importable reliably when several parts of the suite
have one)."""

from office_world import connected, hub_world, make_doc, office, province

__all__ = ["connected", "hub_world", "make_doc", "office", "province"]
