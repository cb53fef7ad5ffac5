"""The software version recorded in every audit event (and printed on signed records).

Computed once per process: the ``APP_VERSION`` setting when the deployment sets it (a
release built without its ``.git``), else ``git describe --always --dirty --tags`` of the
checkout, else the version in ``pyproject.toml``.
"""

import functools
import subprocess
import tomllib

from django.conf import settings

_MAX_LENGTH = 64  # AuditEvent.app_version


def _git_describe():
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],  # noqa: S607 (git on PATH)
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def _package_version():
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""


@functools.cache
def app_version():
    version = settings.APP_VERSION or _git_describe()
    if not version:
        package = _package_version()
        version = f"v{package}" if package else "unknown"
    return version[:_MAX_LENGTH]
