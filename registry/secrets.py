"""Recognising text that looks like an API key, so it is refused or redacted.

The registry promises never to store, log or echo a key. Visitors paste keys into the
wrong box more often than anyone would like, so free text is checked before it is saved,
query strings are checked before a view sees them, and log records are scrubbed before
they are written.

The detector reads a normalised view of the text, so that a key cannot slip through
dressed up:
- NFKC, so fullwidth or styled letters (U+FF53 for s, say) read as the ASCII they stand for;
- invisible characters dropped: format characters (Unicode category Cf: zero-width space
  and joiners, soft hyphen, BOM, word joiner, bidi marks), combining marks left over
  after NFKC, control characters other than line breaks and tabs, and the filler
  characters that fonts draw as blank;
- a key split over short lines is joined back: a line break between two key characters
  is removed when one of the two lines is a single bare token. Only line breaks, never
  spaces within a line, so prose is left alone.

What is NOT taken for a key, to keep false positives low (DESIGN.md):
- ordinary prose, URLs, code, environment variable names, numbers;
- slugs of words and numbers, however long: an unprefixed key needs 16 letters and digits
  in a row, which model ids (claude-3-5-sonnet-20241022) and UUIDs (request and
  organisation ids in error messages) never have;
- 40-character lowercase hex (git commit hashes and SHA-1 digests, as in commit links);
- a hex digest written with its algorithm, such as sha256:<64 hex> (image digests).
A bare 32- or 64-character hex string still counts as a key: some providers issue keys
of exactly that shape (Azure-style keys, legacy Together AI keys).
Joined over line breaks, an unprefixed key counts only when it mixes upper case, lower
case and digits, so a column of model names is not mistaken for one.
"""

import logging
import re
import unicodedata
from itertools import pairwise

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
# A random key has long runs without - or _; a slug of words (a model id such as
# mistralai-mixtral-8x22b-instruct-v0-1, a UUID) does not: at least 16 in a row.
_GENERIC = (
    r"(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Za-z])(?=[A-Za-z0-9_\-]*[A-Za-z0-9]{16})"
    r"[A-Za-z0-9_\-]{32,}"
)
_MIXED = r"(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{32,}"
_BEFORE = r"(?<![A-Za-z0-9_\-])"
_AFTER = r"(?![A-Za-z0-9_\-])"

# Every pattern below is copied verbatim into static/js/search-guard.js, which refuses to
# send a key-shaped search (tests/browser/test_search_guard.py compares them). [0-9], not
# \d, so that Python and JavaScript agree.
SECRET_RE = re.compile(_BEFORE + r"(?:" + "|".join(_PREFIXED) + "|" + _GENERIC + r")" + _AFTER)
# Read on text joined over line breaks: prefixed keys, or unprefixed ones of mixed case.
SPLIT_SECRET_RE = re.compile(_BEFORE + r"(?:" + "|".join(_PREFIXED) + "|" + _MIXED + r")" + _AFTER)
PREFIXED_RE = re.compile(r"(?:" + "|".join(_PREFIXED) + r")")
GIT_HASH_RE = re.compile(r"[0-9a-f]{40}")
DIGEST_LABEL_RE = re.compile(r"(?:sha1|sha224|sha256|sha384|sha512|md5)[:=]$", re.IGNORECASE)
HEX_RE = re.compile(r"[0-9a-fA-F]+")
TOKEN_LINE_RE = re.compile(r"[A-Za-z0-9_\-]+")
_KEY_CHARACTER = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# Drawn as blank by most fonts, yet not in the categories dropped below.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Cc", "Co", "Cn"})
_KEPT_CONTROLS = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85")

PASTED_KEY_MESSAGE = (
    "This looks like an API key. Never share your key: remove it and try again. "
    "If a key was posted anywhere public, revoke it in your provider's dashboard."
)
REDACTED = "[redacted]"


# The fewest characters any pattern above matches (sk-or- and 8 more). Normalising ASCII
# only ever removes characters, so shorter ASCII text needs no further look: most query
# values and form choices ("on", "2", "groq") stop here.
SHORTEST_KEY = 14


def looks_like_secret(text):
    if not text or (len(text) < SHORTEST_KEY and text.isascii()):
        return False
    visible = visible_text(text)
    if any(_is_key(match, visible) for match in SECRET_RE.finditer(visible)):
        return True
    joined = join_split_lines(visible)
    return joined != visible and SPLIT_SECRET_RE.search(joined) is not None


def redact(text):
    """The text with everything key-shaped replaced by [redacted], read the way the
    detector reads it: when the text needed normalising (a key with zero-width spaces
    inside, or split over lines), the normalised text is what comes back, so that no part
    of the key survives."""
    if not looks_like_secret(text):
        return text
    view = join_split_lines(visible_text(text))
    view = SECRET_RE.sub(lambda match: REDACTED if _is_key(match, view) else match.group(), view)
    return SPLIT_SECRET_RE.sub(REDACTED, view)


def mask_key(key):
    """The only form of a key the site ever shows: its first 6 characters."""
    return f"{key[:6]}…"


def visible_text(text):
    """NFKC, without the characters that render as nothing (see the module docstring)."""
    if text.isascii():
        if text.isprintable():
            return text
        return "".join(c for c in text if c.isprintable() or c in _KEPT_CONTROLS)
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        c
        for c in text
        if c in _KEPT_CONTROLS
        or (c not in _FILLERS and unicodedata.category(c) not in _DROPPED_CATEGORIES)
    )


def join_split_lines(text):
    """Remove each line break (with the spaces around it) that splits a token: a key
    character on both sides, and one of the two lines a single bare token."""
    lines = text.splitlines()
    if len(lines) < 2:
        return text
    joined = lines[0]
    for before, line in pairwise(lines):
        tail, head = before.rstrip(), line.lstrip()
        splits_a_token = (
            tail[-1:] in _KEY_CHARACTER
            and head[:1] in _KEY_CHARACTER
            and bool(
                TOKEN_LINE_RE.fullmatch(tail.lstrip()) or TOKEN_LINE_RE.fullmatch(head.rstrip())
            )
        )
        joined = joined.rstrip() + head if splits_a_token else joined + "\n" + line
    return joined


def _is_key(match, text):
    token = match.group()
    if PREFIXED_RE.fullmatch(token):
        return True
    if GIT_HASH_RE.fullmatch(token):
        return False
    labelled = DIGEST_LABEL_RE.search(text, max(0, match.start() - 8), match.start())
    return not (labelled and HEX_RE.fullmatch(token))


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
