"""Pure tests of infusion.engine (no database, no Django), plus shared helpers."""

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo


def repo_root() -> Path:
    """The directory holding pyproject.toml above this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    raise RuntimeError("pyproject.toml not found above the tests")


EXAMPLES_DIR = repo_root() / "docs" / "examples" / "infusion"
EXAMPLE_INPUT = EXAMPLES_DIR / "lupus-nephritis.input.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def example_doc() -> dict:
    """A fresh copy of the worked example's input document (decimals as strings)."""
    return copy.deepcopy(json.loads(EXAMPLE_INPUT.read_text(encoding="utf-8")))


def at(text: str) -> datetime:
    """An aware datetime from ISO 8601 with an offset (fails loudly on a naive one)."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value


def local(year, month, day, hour=0, minute=0, zone=SHANGHAI) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


D = Decimal
