"""E-mail over SMTP with STARTTLS: the transport that works with any mail server.

(Gmail's own SMTP needs an app password; the Gmail API transport is in email_gmail.py.)
A 4xx answer is temporary, a 5xx one permanent, as SMTP itself defines them; a mail refused
for some recipients only is delivered (the receipt names the refused ones). The server's
certificate is checked against the system's trust store (`SSL_CERT_FILE` names another CA file,
e.g. a company CA) or an explicit `tls_context`; a certificate that fails the check is a permanent
failure: retrying cannot make it trusted.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from bot.notify.channel import ChannelError
from bot.config.settings import SmtpTransport

log = logging.getLogger(__name__)


class Smtp:
    def __init__(self, settings: SmtpTransport, *, tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.tls_context = tls_context

    def deliver(self, mail: EmailMessage) -> str:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                if s.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password.get_secret_value() if s.password else "")
                refused = smtp.send_message(mail)
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(
                f"SMTP server's certificate is not trusted ({exc.verify_message}); "
                "add its CA with SSL_CERT_FILE", permanent=True,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError(f"SMTP login refused: {exc.smtp_code}", permanent=True) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise ChannelError(f"SMTP refused every recipient: {codes}", permanent=min(codes) >= 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP answered {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP unreachable: {exc}") from exc
        if refused:
            # The others have the mail: a retry would send it to them again. Said, not retried.
            said = ", ".join(f"{address}: {code}" for address, (code, _) in sorted(refused.items()))
            log.warning("SMTP delivered %s but refused %s", mail["Message-ID"], said)
            return f"{mail['Message-ID']} (refused {said})"
        return str(mail["Message-ID"])
