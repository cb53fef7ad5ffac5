import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": "k" * 10 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ!@#$%",
    "ALLOWED_HOSTS": "ward.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ward",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "AUDIT_HMAC_KEYS": "ci-2026:" + "a7Kq9Zr2Lm4Xv8Tn3Bw6Yc1Hd5Fg0Js2Pe7Uo9",
}


def _run(args, **env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"APP_ENV", "DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "name,value,needle",
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("TIME_ZONE", "Mars/Olympus", "is not an IANA time zone"),
        ("SESSION_IDLE_TIMEOUT_SECONDS", "soon", "is not an integer"),
        ("CELERY_BROKER_URL", "amqp://x", "use redis://"),
        ("COLD_CHAIN_HARD_LIMIT_HOURS", "13", "outside 8..12"),
        ("APP_ENV", "staging", "must be development, test or production"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT=-1 is outside 0..10"),
    ],
)
def test_a_bad_environment_value_stops_the_app_with_its_name(name, value, needle):
    result = _run(
        ["-c", "import django; from django.conf import settings; settings.DEBUG"], **{name: value}
    )
    assert result.returncode != 0
    assert needle in result.stderr


def test_production_requires_a_secret_key():
    env = dict(PROD_ENV)
    env.pop("SECRET_KEY")
    result = _run(
        ["-c", "from django.conf import settings; settings.DEBUG"],
        DJANGO_SETTINGS_MODULE="config.settings",
        **env,
    )
    assert "SECRET_KEY is required" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("value,expected", [(None, "0"), ("1", "1"), ("2", "2")])
def test_trusted_proxy_count_comes_from_the_environment(value, expected):
    result = _run(
        ["-c", "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"],
        DJANGO_SETTINGS_MODULE="config.settings",
        TRUSTED_PROXY_COUNT=value or "",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    "keys,key_id,needle",
    [
        (None, None, "Environment variable AUDIT_HMAC_KEYS is required"),
        ("no-colon-here", None, "AUDIT_HMAC_KEYS must be comma-separated kid:secret pairs"),
        ("2026a:short", None, "the secret of key '2026a' must be 32+ random characters"),
        ("a:" + "x" * 40 + ",b:" + "y" * 40, None, "AUDIT_HMAC_KEY_ID is required"),
        ("a:" + "x" * 40, "b", "AUDIT_HMAC_KEY_ID='b' is not a key id of AUDIT_HMAC_KEYS"),
    ],
)
def test_production_requires_a_usable_audit_key_outside_the_database(keys, key_id, needle):
    env = dict(PROD_ENV)
    env.pop("AUDIT_HMAC_KEYS")
    if keys is not None:
        env["AUDIT_HMAC_KEYS"] = keys
    if key_id is not None:
        env["AUDIT_HMAC_KEY_ID"] = key_id
    result = _run(["-c", "from django.conf import settings; settings.DEBUG"], **env)
    assert result.returncode != 0
    assert needle in result.stderr
