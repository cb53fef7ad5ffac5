"""The software version every audit event records (issue 17, item 5)."""

import subprocess

import pytest

from core import version
from core.version import app_version


@pytest.fixture
def fresh_version():
    app_version.cache_clear()
    yield
    app_version.cache_clear()


def test_app_version_from_the_environment_wins(settings, fresh_version):
    settings.APP_VERSION = "2026.11.2-release"
    assert app_version() == "2026.11.2-release"


def test_without_it_the_checkout_is_described_by_git(settings, fresh_version):
    settings.APP_VERSION = ""
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--tags"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if described.returncode != 0:
        pytest.skip("not a git checkout")
    assert app_version() == described.stdout.strip()


def test_without_git_the_package_version_is_used(settings, fresh_version, monkeypatch):
    settings.APP_VERSION = ""
    monkeypatch.setattr(version, "_git_describe", lambda: "")
    assert app_version() == "v0.1.0"


def test_it_is_computed_once_per_process(settings, fresh_version, monkeypatch):
    settings.APP_VERSION = "first"
    assert app_version() == "first"
    settings.APP_VERSION = "second"
    assert app_version() == "first"
