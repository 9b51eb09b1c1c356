"""Shared test helpers."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A copy of ../shared/lan-auth-vectors.json, so the suite runs from a lone clone too.
VECTORS_FILE = ROOT / "tests" / "data" / "lan-auth-vectors.json"


def load_vectors() -> list[dict]:
    return json.loads(VECTORS_FILE.read_text())["vectors"]


@pytest.fixture(scope="session")
def lan_vectors() -> list[dict]:
    return load_vectors()
