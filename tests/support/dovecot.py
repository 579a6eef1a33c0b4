"""A real IMAP server for the tests: Debian's Dovecot, run in the foreground from a temp dir.

The fixture writes its own dovecot.conf (IMAP over TLS only, with a self-signed certificate made
by the test, one user in a passwd-file, Maildir storage in the temp dir), starts `dovecot -F` on
a free loopback port, waits until it answers, and stops it afterwards. `.ci/run` installs the
`dovecot-imapd` package; where it is missing the tests that need it skip, saying so.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.smtp import SelfSigned, free_port
from tests.support.waiting import wait_until

USER, PASSWORD = "jobs@example.org", "imap-test-password"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
disable_plaintext_auth = yes
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def missing() -> str | None:
    """Why no Dovecot can run here, or None."""
    if not Path(DOVECOT).is_file():
        return "Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)"
    return None


@dataclass(frozen=True)
class RunningDovecot:
    port: int
    cert: SelfSigned
    root: Path

    @property
    def ca_file(self) -> Path:
        return self.cert.cert_file

    def client(self):  # an IMAPClient logged in as the test user, for filling the mailbox
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=self.cert.client_context())
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Put one mail into the mailbox (IMAP APPEND), as the provider's delivery would."""
        client = self.client()
        try:
            client.append(mailbox, raw)
        finally:
            client.logout()


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_dovecot() -> Iterator[RunningDovecot]:
    """Dovecot in a temp dir of its own, reachable by Dovecot's users (pytest's are not: 0700)."""
    root = Path(tempfile.mkdtemp(prefix="vorhoelle-dovecot-"))
    root.chmod(0o755)
    try:
        with _dovecot(root) as running:
            yield running
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _dovecot(root: Path) -> Iterator[RunningDovecot]:
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cert = SelfSigned.create(root)
    me = pwd.getpwuid(os.getuid()).pw_name
    as_root = os.getuid() == 0
    # Dovecot runs its helpers as unprivileged users; as root it needs the package's own users.
    mail_user = pwd.getpwnam("dovecot") if as_root else pwd.getpwuid(os.getuid())
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    if as_root:
        for path in [root, *root.rglob("*")]:
            os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
    port = free_port()
    (root / "dovecot.conf").write_text(CONFIG.format(
        root=root, cert=cert.cert_file, key=cert.key_file, port=port,
        internal="dovecot" if as_root else me, internal_group="dovecot" if as_root else me,
        login="dovenull" if as_root else me, uid=mail_user.pw_uid, gid=mail_user.pw_gid,
    ))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def ready() -> bool:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot exited: {process.stdout.read().decode()} {log}")
            return _answers(port)

        wait_until(ready, timeout=20, message="dovecot to listen")
        yield RunningDovecot(port=port, cert=cert, root=root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
