"""Production settings: `check --deploy` is clean, and a default secret key is refused."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    environment = {**os.environ, **env}
    # The browser tests' conftest sets this for Playwright's event loop; a deployment never would.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env():
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "registry.example.org",
    }


def test_deploy_check_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **production_env())
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_the_default_secret_key():
    env = production_env()
    env["DJANGO_SECRET_KEY"] = "django-insecure-local-development-only-do-not-deploy"
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_missing_secret_key():
    env = {**os.environ, **production_env()}
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_mistyped_key_receiver_fails_the_checks():
    result = manage("check", BYOK_API_KEY_RECEIVER="myproject.keys.no_such_function")
    assert result.returncode != 0
    assert "onboarding.E001" in result.stderr
