"""Fixtures the supervision tests borrow: the API world (tests/api/conftest.py)."""

from tests.api.conftest import api  # noqa: F401 (a fixture, used by name)
