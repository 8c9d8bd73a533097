"""Operations: one-file backup and restore (database and uploads), the mail test against a real
SMTP conversation, and log lines that carry the request's id."""

import logging
import os
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from portal.models import AuditEvent, School

ROOT = Path(__file__).resolve().parents[2]


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_backup_of_sqlite_and_media_restores_both(tmp_path):
    media = tmp_path / "media"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path}/portal.sqlite3", "DJANGO_MEDIA_ROOT": str(media),
        "PORTAL_ENV_FILE": str(tmp_path / "none.env"),
    }  # fmt: skip
    manage(env, "migrate", "--noinput", "-v0")
    school = "from portal.models import *; d=District.objects.create(name='板橋分區');"
    manage(
        env,
        "shell",
        "-c",
        school + "School.objects.create(name='板橋國小', code='014601', district=d)",
    )
    (media / "meetings").mkdir(parents=True)
    (media / "meetings" / "紀錄.docx").write_bytes(b"minutes")
    backup = tmp_path / "backup.tar.gz"
    assert "已備份到" in manage(env, "backup", str(backup))

    manage(env, "shell", "-c", "from portal.models import *; School.objects.all().delete()")
    (media / "meetings" / "紀錄.docx").unlink()
    (media / "stray.txt").write_text("after the backup")
    assert "已還原" in manage(env, "restore", str(backup), "--yes")

    count = "from portal.models import School; print(School.objects.filter(code='014601').count())"
    assert manage(env, "shell", "-c", count).split()[-1] == "1"
    assert (media / "meetings" / "紀錄.docx").read_bytes() == b"minutes"
    assert not (media / "stray.txt").exists()


def test_restore_asks_before_overwriting(tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "x.tar.gz"))


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_postgresql_restores_it(postgres, tmp_path, settings, xindian_school):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    Path(settings.MEDIA_ROOT).mkdir()
    (Path(settings.MEDIA_ROOT) / "a.txt").write_text("upload")
    backup = tmp_path / "pg.tar.gz"
    call_command("backup", str(backup))
    School.objects.filter(pk=xindian_school.pk).update(name="改過的名字")
    call_command("restore", str(backup), "--yes")
    assert School.objects.get(pk=xindian_school.pk).name == "新店國小"
    assert (Path(settings.MEDIA_ROOT) / "a.txt").read_text() == "upload"


# --- the mail test --------------------------------------------------------------------------------
class SMTPCapture(socketserver.ThreadingTCPServer):
    """An SMTP server in this process: enough of RFC 5321 for smtplib; refuses `refused@…`."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.messages = []
        super().__init__(("127.0.0.1", 0), SMTPHandler)


class SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 capture")
        recipients, data = [], None
        while line := self.rfile.readline():
            if data is not None:
                if line in (b".\r\n", b".\n"):
                    self.server.messages.append((recipients, b"".join(data)))
                    recipients, data = [], None
                    self.reply("250 queued")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 capture")
            elif verb == b"RCPT":
                if b"refused@" in line:
                    self.reply("550 no such user")
                else:
                    recipients.append(line.decode().split(":", 1)[1].strip(" <>\r\n"))
                    self.reply("250 ok")
            elif verb == b"DATA":
                data = []
                self.reply("354 go on")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server(settings):
    server = SMTPCapture()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_the_mail_test_says_the_smtp_server_accepted_the_message(bureau, login, smtp_server):
    page = login(bureau).post(reverse("mail_test"), {"to": "it@ntpc.edu.tw"}).content.decode()
    assert "SMTP 伺服器已接受寄給 it@ntpc.edu.tw 的測試信" in page
    assert [to for to, _ in smtp_server.messages] == [["it@ntpc.edu.tw"]]
    assert AuditEvent.objects.get(action="portal.mail_tested").detail["accepted"] is True


@pytest.mark.django_db
def test_the_mail_test_says_when_the_smtp_server_refuses(bureau, login, smtp_server):
    page = login(bureau).post(reverse("mail_test"), {"to": "refused@ntpc.edu.tw"}).content.decode()
    assert "SMTP 伺服器拒收寄給 refused@ntpc.edu.tw 的信" in page
    assert not smtp_server.messages
    assert AuditEvent.objects.get(action="portal.mail_tested").detail["accepted"] is False


@pytest.mark.django_db
def test_the_mail_test_says_when_no_smtp_server_answers(bureau, login, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    page = login(bureau).post(reverse("mail_test"), {"to": "it@ntpc.edu.tw"}).content.decode()
    assert "無法寄出：ConnectionRefusedError" in page


# --- log lines --------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_log_line_of_a_request_names_its_id_on_one_line(coordinator, login):
    from portal.requestlog import OneLineFormatter, RequestIdFilter

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logging.getLogger("portal").addHandler(handler)
    try:
        client = login(coordinator)
        response = client.get("/people/", HTTP_X_REQUEST_ID="proxy-given-id-1")  # refused, logged
        logging.getLogger("portal").warning("after the request")
    finally:
        logging.getLogger("portal").removeHandler(handler)
    assert response.status_code == 403 and response["X-Request-ID"] == "proxy-given-id-1"
    assert [r.request_id for r in seen if r.name == "portal.access"] == ["proxy-given-id-1"]
    assert client.get("/")["X-Request-ID"] != "proxy-given-id-1"
    formatter = OneLineFormatter("%(levelname)s [%(request_id)s] %(message)s")
    try:
        raise ValueError("two\nlines")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    record.request_id = "abc"
    assert "\n" not in formatter.format(record) and "ValueError: two ⏎ lines" in formatter.format(
        record
    )
    assert seen[-1].request_id == "-"
