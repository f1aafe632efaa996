"""Where the office's e-mail goes: a small :class:`Mailer` interface, the SMTP server of the
settings (``LIENTHONG_OFFICE_SMTP_*``) as its real adapter; tests give a recorder."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from lienthong.office.settings import OfficeSettings


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int = 25
    sender: str = "vanphong@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0

    def send(self, *, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)


def smtp_mailer(settings: OfficeSettings) -> SmtpMailer | None:
    """The SMTP server of the settings (``LIENTHONG_OFFICE_SMTP_*``), or None without one."""
    if not settings.smtp_host:
        return None
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
