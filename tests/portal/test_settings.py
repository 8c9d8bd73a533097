"""The settings module refuses bad environment variables by name, and is production-clean."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 60 + "production-like-secret-key-with-enough-entropy",
    "DJANGO_ALLOWED_HOSTS": "portal.ntpc.edu.tw",
    "DATABASE_URL": "sqlite:////tmp/portal-check.sqlite3",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OIDC_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_the_documented_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "name, value",
    [("DJANGO_DEBUG", "maybe"), ("DJANGO_DEBUG", "false   # an inline comment"),
     ("DATABASE_URL", "not-a-url"), ("DJANGO_HSTS_SECONDS", "a year"),
     ("PORTAL_LOGIN_FAILURE_LIMIT", "0"), ("OIDC_NTPC_SECRET", "")],
)  # fmt: skip
def test_a_malformed_variable_stops_start_up_naming_it(name, value):
    env = {**PRODUCTION, name: value}
    if name.startswith("OIDC_NTPC"):
        env.update(OIDC_NTPC_CLIENT_ID="portal", OIDC_NTPC_SERVER_URL="https://openid.ntpc.edu.tw")
    result = manage("check", **env)
    assert result.returncode != 0
    assert name in result.stderr


def test_a_missing_secret_key_in_production_is_named():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_oidc_providers_appear_only_when_configured():
    code = (
        "from django.conf import settings;"
        "print([a['provider_id'] for a in settings.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS']])"
    )
    without = manage("shell", "--no-imports", "-c", code, **PRODUCTION)
    assert without.stdout.strip() == "[]", without.stderr
    with_edu = manage(
        "shell", "--no-imports", "-c", code, **PRODUCTION, OIDC_EDU_CLOUD_CLIENT_ID="portal",
        OIDC_EDU_CLOUD_SECRET="s3cret", OIDC_EDU_CLOUD_SERVER_URL="https://oidc.tanet.edu.tw",
    )  # fmt: skip
    assert with_edu.stdout.strip() == "['edu-cloud']", with_edu.stderr


def test_the_folder_broker_keeps_every_file_under_its_own_folder(tmp_path):
    """`make run`'s broker is a folder: publishing a task must not leave kombu's exchange table
    (./control) in whatever folder the process runs in."""
    broker = tmp_path / "broker"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    script = (
        "import django; django.setup();"
        "from portal.celery import app;"
        "app.send_task('portal.tasks.record_heartbeat')"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workdir,
        env={
            **clean,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "true",
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_FILESYSTEM_DIR": str(broker),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert list(workdir.iterdir()) == []
    assert list((broker / "queue").iterdir())  # the task is there, waiting for the worker
    assert (broker / "control" / "celery.exchange").exists()


def test_the_example_env_file_works_as_copied(tmp_path):
    """An operator copies .env.example to .env and fills in the secret and the host: that file
    alone passes `check --deploy` (a comment after a value used to become part of the value)."""
    lines = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("DJANGO_SECRET_KEY="):
            line = "DJANGO_SECRET_KEY=" + "k" * 60 + "-a-real-secret-of-the-operator"
        elif line.startswith("DJANGO_ALLOWED_HOSTS="):
            line = "DJANGO_ALLOWED_HOSTS=itportal.ntpc.edu.tw"
        elif line.startswith("DATABASE_URL="):
            line = f"DATABASE_URL=sqlite:///{tmp_path}/portal.sqlite3"
        lines.append(line)
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OIDC_"))}
    clean = {k: v for k, v in clean.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    code = (
        "import django, sys; django.setup(); from django.conf import settings;"
        "from django.core.management import call_command;"
        "call_command('check', '--deploy', '--fail-level', 'WARNING');"
        "print('DEBUG', settings.DEBUG);"
        "print('OIDC apps', len(settings.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_ENV_FILE": str(env_file),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "DEBUG False" in result.stdout
    assert "OIDC apps 0" in result.stdout  # the client ids are empty, so no provider


def test_with_redis_the_cache_is_django_redis_that_ignores_an_outage():
    """tests/portal/test_cache.py stops a Redis under this very configuration."""
    from tests.portal.test_cache import DEAD_REDIS

    code = "import json; from django.conf import settings; print(json.dumps(settings.CACHES))"
    result = manage("shell", "--no-imports", "-c", code, **PRODUCTION, REDIS_URL="redis://r:6379/1")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)["default"]
    expected = DEAD_REDIS["default"]
    assert config["BACKEND"] == expected["BACKEND"]
    assert config["OPTIONS"] == expected["OPTIONS"]
    assert config["LOCATION"] == "redis://r:6379/1"
