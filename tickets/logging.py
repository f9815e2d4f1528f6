"""Caller phone numbers never reach logs.

``PhoneScrubFilter`` scrubs the records that pass through the configured handlers, and
``install_record_factory`` (called when the app is ready) scrubs every record when it is created,
so handlers that do not carry the filter — Django's own ``django.server`` and ``mail_admins``, a
Celery worker's hijacked root logger, an error reporter — never see a number either. The message,
its arguments, an exception's traceback and a stack trace are all scrubbed.
"""

import logging
import re

# Mainland mobile numbers (also written 138 1234 5678 / 138-1234-5678), landlines with area code
# (0375-1234567, (0375)1234567), with or without +86 / 0086.
PHONE_RE = re.compile(
    r"(?<!\d)(?:(?:\+|00)?86[- ]?)?"
    r"(?:1[3-9]\d(?:[- ]?\d{4}){2}|\(?0\d{2,3}\)?[- ]?\d{7,8})"
    r"(?!\d)"
)
REPLACEMENT = "[电话已隐去]"


def scrub(text: str) -> str:
    return PHONE_RE.sub(REPLACEMENT, text)


def scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # pragma: no cover - a broken format string is logged as it is
        return
    scrubbed = scrub(message)
    if scrubbed != message:
        record.msg, record.args = scrubbed, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


class ClientIpFilter(logging.Filter):
    """Records about a request (Django's ``django.request`` / ``django.security`` ones carry it) name
    the client's address as ``tickets.net.client_ip`` reads it — the same one the throttles, axes
    and the access log use, never a forged ``X-Forwarded-For``."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META") and not getattr(record, "client_ip", None):
            from .net import client_ip

            try:
                address = client_ip(request) or "-"
            except Exception:  # pragma: no cover - a log line never fails
                address = "-"
            record.client_ip = address
            record.msg, record.args = f"{record.getMessage()} [client {address}]", None
        return True


class PhoneScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def install_record_factory() -> None:
    """Scrub every log record as it is made (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "scrubs_phones", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        scrub_record(record)
        return record

    factory.scrubs_phones = True
    logging.setLogRecordFactory(factory)
