"""A real SMTP server (aiosmtpd) on a free port, keeping every message it accepts.

With `tls=` (a `SelfSigned` certificate made by the test) it offers STARTTLS and refuses mail
before it, as a submission server on port 587 does.
"""

from __future__ import annotations

import email
import email.policy
import datetime
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "bot@example.com", "app-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class SelfSigned:
    """A throwaway certificate for 127.0.0.1 and localhost, written as PEM files."""

    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path) -> "SelfSigned":
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        made = cls(directory / "smtp-cert.pem", directory / "smtp-key.pem")
        made.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        made.key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return made

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.cert_file))


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []
        self.refuse_with: str | None = None
        self.refuse_addresses: dict[str, str] = {}   # one recipient's answer, the others accepted
        self.starttls = 0          # STARTTLS handshakes completed
        self.encrypted: list[bool] = []   # per accepted mail: did it arrive over TLS?

    def handle_STARTTLS(self, server, session, envelope):   # aiosmtpd calls this one synchronously
        self.starttls += 1
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with or address in self.refuse_addresses:
            return self.refuse_with or self.refuse_addresses[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), parsed))
        self.encrypted.append(session.ssl is not None)
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    # A refusal must say handled=False, or the client waits forever (CHANNELS.md).
    return AuthResult(success=ok, handled=False)


class FakeSmtp:
    def __init__(self, tls: SelfSigned | None = None) -> None:
        self.inbox = _Inbox()
        self.port = free_port()
        secure = {"tls_context": tls.server_context(), "require_starttls": True} if tls else {}
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port,
            authenticator=_authenticate, auth_require_tls=tls is not None, **secure,
        )

    def __enter__(self) -> "FakeSmtp":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
