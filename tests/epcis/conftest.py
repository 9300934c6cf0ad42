"""Fixtures for the EPCIS tests: the GS1 schema (skip when shared/schemas is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from battrace.epcis.validate import SchemaUnavailable, schema_path


@pytest.fixture(scope="session")
def schema_file() -> Path:
    """The GS1 EPCIS JSON schema, read from shared/schemas (never copied into the repo)."""
    try:
        return schema_path()
    except SchemaUnavailable as exc:
        pytest.skip(f"GS1 EPCIS schemas absent (shared/schemas/epcis): {exc.message}")


@pytest.fixture(scope="session")
def examples_folder(schema_file: Path) -> Path:
    return schema_file.parents[1] / "examples"
