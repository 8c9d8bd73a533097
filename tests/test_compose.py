"""The production stack, read from docker-compose.yml and the Dockerfile (docker does not run
here): it starts empty and takes its secrets from .env, the image runs as a user of its own that
owns the volumes it writes to, and the dependencies are installed before the code is copied."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
PORTAL_SERVICES = ["web", "worker", "imports", "beat"]


def service(name):
    return COMPOSE["services"][name]


def command(name):
    cmd = service(name)["command"]
    return cmd if isinstance(cmd, str) else " ".join(cmd)


def test_the_stack_starts_empty_and_demo_data_is_a_separate_command():
    for name, svc in COMPOSE["services"].items():
        assert "load_demo" not in str(svc.get("command", "")), name
    assert "migrate" in command("web")
    assert service("mailpit")["profiles"] == ["demo"]  # not part of `docker compose up`


def test_hosts_and_secrets_come_from_env_file():
    for name in PORTAL_SERVICES:
        svc = service(name)
        assert svc["env_file"] == ".env", name
        fixed = svc.get("environment", {})
        for variable in ("DJANGO_ALLOWED_HOSTS", "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "EMAIL_URL"):
            assert variable not in fixed, (name, variable)
        assert "${POSTGRES_PASSWORD:?" in fixed["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in service("postgres")["environment"]["POSTGRES_PASSWORD"]
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.M)


def test_uploads_and_the_beat_schedule_live_on_named_volumes():
    assert {"pgdata", "media", "beat"} <= set(COMPOSE["volumes"])
    for name in PORTAL_SERVICES:
        svc = service(name)
        assert "media:/data/media" in svc["volumes"], name
        assert svc["environment"]["DJANGO_MEDIA_ROOT"] == "/data/media"
    assert "beat:/data/beat" in service("beat")["volumes"]
    assert "--schedule=/data/beat/" in command("beat")


def test_workers_can_be_scaled():
    worker = service("worker")
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=N works
    assert "--scale worker=" in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def test_the_image_runs_as_its_own_user_who_owns_the_volumes():
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0", "nobody")
    chown = re.search(r"chown -R (\S+):\S+ ([^\n]+)", DOCKERFILE)
    assert chown and chown.group(1) == users[-1]
    for path in ("/data", "/app/var"):
        assert path in chown.group(2)
    assert re.search(r'^VOLUME \["/data/media", "/data/beat"\]', DOCKERFILE, re.M)
    assert "postgresql-client" in DOCKERFILE  # pg_dump for manage.py backup


def test_dependencies_are_installed_in_a_layer_before_the_code():
    lines = [line for line in DOCKERFILE.splitlines() if re.match(r"^(COPY|RUN)\b", line)]
    copy_deps = lines.index("COPY pyproject.toml requirements.lock ./")
    pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    copy_code = lines.index("COPY . .")
    assert copy_deps < pip < copy_code
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", "var"} <= set(ignored)
