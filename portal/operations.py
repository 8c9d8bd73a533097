"""Operating the portal: the mail test (does the SMTP server accept our mail?) and one-file
backups of the database and the uploaded files."""

import json
import os
import shutil
import subprocess  # noqa: S404 – pg_dump and pg_restore, with arguments from the settings
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connections
from django.utils import timezone

from . import audit
from .checklist import MAIL_TESTED


def mail_test_send(*, to, user, request=None):
    """(accepted, text): whether the SMTP server accepted a message for `to`, in words."""
    import smtplib  # only this page and the backup need these three: not every start-up

    message = EmailMessage(
        "入口網站測試信",
        f"這是 {user.display_name} 在入口網站寄出的測試信。收到這封信，表示寄信設定正確。",
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
    try:
        sent = message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        accepted, text = False, f"SMTP 伺服器拒收寄給 {to} 的信。"
    except smtplib.SMTPAuthenticationError:
        accepted, text = False, "SMTP 伺服器拒絕登入：請檢查 EMAIL_URL 的帳號與密碼。"
    except (smtplib.SMTPException, OSError, TimeoutError) as exc:
        accepted, text = False, f"無法寄出：{type(exc).__name__}：{exc}"[:300]
    else:
        accepted = bool(sent)
        text = (
            f"SMTP 伺服器已接受寄給 {to} 的測試信。請確認信已送達收件匣。"
            if accepted
            else "郵件後端沒有寄出任何信。"
        )
    audit.record(MAIL_TESTED, request=request, actor=user, target=to, accepted=accepted)
    return accepted, text


# --- backup and restore ---------------------------------------------------------------------------
# One file (a .tar.gz) holds the database and the uploaded files:
#   manifest.json              what made it, when, from which database engine
#   database.pgdump            pg_dump --format=custom (PostgreSQL), or
#   database.sqlite3           a consistent copy made with SQLite's backup API
#   media/…                    everything under MEDIA_ROOT (attachments, imported spreadsheets)


class BackupError(Exception):
    """Why a backup or a restore cannot be done, in words for the operator."""


def _engine():
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite" in engine:
        return "sqlite"
    raise BackupError(f"不支援這種資料庫：{engine}")


def _pg_env_and_args():
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    args = ["--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    return env, args


def _run(command, env):
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(
            f"找不到 {command[0]}：請安裝 PostgreSQL 用戶端（postgresql-client）。"
        ) from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失敗：{result.stderr.strip()[:500]}")


def backup_write(path):
    """Writes the backup to `path` and returns it (a Path)."""
    import sqlite3
    import tarfile

    path = Path(path)
    engine = _engine()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if engine == "postgresql":
            env, args = _pg_env_and_args()
            dump = tmp / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), *args], env)
        else:
            dump = tmp / "database.sqlite3"
            source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)
            source.close()
            target.close()
        manifest = {"engine": engine, "created_at": timezone.now().isoformat(), "format": 1}
        (tmp / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(tmp / "manifest.json", arcname="manifest.json")
            archive.add(dump, arcname=dump.name)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                archive.add(media, arcname="media")
        partial.replace(path)  # a backup cut short never looks like a whole one
    return path


def backup_restore(path):
    """Replaces the database and the uploaded files with those in the backup at `path`. Stop
    web, workers and beat first (the operations guide says how)."""
    import sqlite3
    import tarfile

    path = Path(path)
    engine = _engine()
    if not path.is_file():
        raise BackupError(f"找不到備份檔 {path}")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r:gz") as archive:
        tmp = Path(tmp)
        archive.extractall(tmp, filter="data")  # no absolute paths, no links out of tmp
        try:
            manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackupError("這不是入口網站的備份檔（沒有 manifest.json）。") from exc
        if manifest.get("engine") != engine:
            raise BackupError(
                f"備份來自 {manifest.get('engine')} 資料庫，目前設定的是 {engine}，無法還原。"
            )
        connections.close_all()
        if engine == "postgresql":
            env, args = _pg_env_and_args()
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", *args, str(tmp / "database.pgdump")], env)  # fmt: skip
        else:
            source = sqlite3.connect(tmp / "database.sqlite3")
            target = sqlite3.connect(settings.DATABASES["default"]["NAME"])
            with target:
                source.backup(target)
            source.close()
            target.close()
        media = Path(settings.MEDIA_ROOT)
        if media.is_dir():
            shutil.rmtree(media)
        if (tmp / "media").is_dir():
            shutil.copytree(tmp / "media", media)
        else:
            media.mkdir(parents=True, exist_ok=True)
    return manifest
