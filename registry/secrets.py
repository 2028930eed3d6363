"""Recognising text that looks like an API key, so it is refused or redacted.

The registry promises never to store, log or echo a key. Visitors paste keys into the
wrong box more often than anyone would like, so free text is checked before it is saved
and log records are scrubbed before they are written.
"""

import logging
import re

# Well-known provider prefixes, then a generic long token that mixes letters and digits
# (most unprefixed keys look like that; ordinary words and URLs do not).
_PREFIXED = (
    r"sk-ant-[A-Za-z0-9_\-]{8,}",
    r"sk-or-[A-Za-z0-9_\-]{8,}",
    r"sk-[A-Za-z0-9_\-]{16,}",
    r"hf_[A-Za-z0-9]{16,}",
    r"gsk_[A-Za-z0-9]{16,}",
    r"AIza[A-Za-z0-9_\-]{20,}",
    r"xai-[A-Za-z0-9_\-]{16,}",
    r"r8_[A-Za-z0-9]{16,}",
    r"nvapi-[A-Za-z0-9_\-]{16,}",
    r"gh[pousr]_[A-Za-z0-9]{20,}",
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"pplx-[A-Za-z0-9]{16,}",
    r"fw_[A-Za-z0-9]{16,}",
    r"csk-[A-Za-z0-9]{16,}",
)
_GENERIC = r"(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{32,}"
SECRET_RE = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:" + "|".join(_PREFIXED) + "|" + _GENERIC + r")(?![A-Za-z0-9_\-])"
)

PASTED_KEY_MESSAGE = (
    "This looks like an API key. Never share your key: remove it and try again. "
    "If a key was posted anywhere public, revoke it in your provider's dashboard."
)


def looks_like_secret(text):
    return bool(text) and SECRET_RE.search(text) is not None


def redact(text):
    return SECRET_RE.sub("[redacted]", text)


def mask_key(key):
    """The only form of a key the site ever shows: its first 6 characters."""
    return f"{key[:6]}…"


class RedactSecretsFilter(logging.Filter):
    """Scrubs key-shaped strings from log records before any handler writes them."""

    def filter(self, record):
        message = record.getMessage()
        if looks_like_secret(message):
            record.msg = redact(message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = str(record.exc_info[1])
            if looks_like_secret(text):
                # The traceback would repeat the key; keep the type, drop the value.
                record.exc_text = f"{type(record.exc_info[1]).__name__}: [redacted]"
                record.exc_info = None
        return True
