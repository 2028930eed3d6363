"""A provider's key format: a small regular-expression grammar that cannot backtrack.

Maintainers describe the shape of a provider's API keys so the setup wizard can tell a
visitor that the key they pasted looks right. Any regular expression was accepted before,
and a pattern such as ``^(a|aa)+$`` made one 61-character key keep a worker busy for
30 seconds. Only this form is accepted now:

    ^ PREFIX* [CLASS] LENGTH $

- PREFIX is literal text (letters, digits, ``_``, ``-``, or ``\\-``, ``\\_``, ``\\.``), or a
  group of literal alternatives, ``(ghp_|github_pat_)`` or ``(?:v1-)``, optionally
  followed by ``?``. At most 4 prefix parts and 32 spellings of the whole prefix.
- CLASS is one character class of single characters (letters, digits, ``_ - .``) and
  ranges within one kind (``a-z``, ``A-F``, ``0-9``); no negation, no ``\\w`` or ``\\d``
  (which match non-ASCII in Python).
- LENGTH is ``{m}``, ``{m,}``, ``{m,n}``, ``+`` or ``*``, with m, n up to 1000.

Every default pattern in registry/data/ has this form.

Why it is linear: the prefix has at most 32 spellings, each a fixed string, and the rest of
the key is one run of one class. matches() tries each spelling with startswith() and then
checks the rest once, character by character, against a set: at most 32 passes over the
key, with no regular-expression engine involved, whatever the pattern and the input. The
result is the same as ``re.fullmatch(pattern, key)`` (a test checks that on generated
patterns and keys).
"""

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from django.core.exceptions import ValidationError

MAX_PREFIX_PARTS = 4
MAX_SPELLINGS = 32
MAX_LENGTH = 1000

GRAMMAR_HELP = (
    "Use the form ^prefix[characters]{min,max}$: literal text, or literal alternatives in "
    "a group such as (ghp_|github_pat_), optionally with ?, then one character class and "
    "its length ({32}, {20,}, {20,64}, + or *). For example ^sk-or-(v1-)?[A-Za-z0-9]{20,}$."
)

_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LITERAL_PLAIN = _WORD | {"_", "-"}
_LITERAL_ESCAPED = {"-", "_", "."}
_CLASS_PLAIN = _WORD | {"_", "."}
_CLASS_ESCAPED = {"-", "_", "."}


class InvalidKeyPattern(ValueError):
    """The pattern is not of the accepted form; the message says what is wrong."""


@dataclass(frozen=True)
class KeyPattern:
    spellings: tuple  # every way the prefix can be written, in the pattern's order
    allowed: frozenset  # the characters the class accepts
    min_length: int
    max_length: int | None  # None: no upper bound

    def matches(self, key):
        """True when `key` has this format: like re.fullmatch, in linear time."""
        for spelling in self.spellings:
            if key.startswith(spelling):
                rest = key[len(spelling) :]
                if (
                    self.min_length <= len(rest)
                    and (self.max_length is None or len(rest) <= self.max_length)
                    and all(character in self.allowed for character in rest)
                ):
                    return True
        return False

    @property
    def expected_prefix(self):
        """What every key starts with, for a hint: "sk-or-" for ^sk-or-(v1-)?…, "ghp_ or
        github_pat_" for ^(ghp_|github_pat_)…, and "" when keys start with the class."""
        shortest_first = sorted(set(self.spellings), key=len)
        starts = []
        for spelling in shortest_first:
            if not any(spelling.startswith(start) for start in starts):
                starts.append(spelling)
        if "" in starts:
            return ""
        return " or ".join(sorted(starts, key=self.spellings.index))


@dataclass(frozen=True)
class KeyCheck:
    verdict: str  # "match", "mismatch", or "unknown" (no usable pattern on file)
    expected_prefix: str


def check_key_format(pattern, key):
    """The wizard's format check: compare `key` with a provider's stored pattern.

    A blank pattern, or one stored before this grammar existed that does not fit it, gives
    "unknown" rather than running an arbitrary regular expression."""
    try:
        key_pattern = parse_key_pattern(pattern) if pattern else None
    except InvalidKeyPattern:
        key_pattern = None
    if key_pattern is None:
        return KeyCheck("unknown", "")
    verdict = "match" if key_pattern.matches(key) else "mismatch"
    return KeyCheck(verdict, key_pattern.expected_prefix)


def validate_key_pattern(pattern):
    """Django validator for Provider.key_pattern: the admin shows the message on the field,
    and the import names the provider and the field."""
    try:
        parse_key_pattern(pattern)
    except InvalidKeyPattern as error:
        raise ValidationError(f"{error} {GRAMMAR_HELP}", code="key_pattern") from None


@lru_cache(maxsize=256)
def parse_key_pattern(pattern):
    """Parse the accepted form into a KeyPattern, or raise InvalidKeyPattern."""
    return _Parser(pattern).parse()


class _Parser:
    def __init__(self, text):
        self.text = text
        self.at = 0

    def peek(self, length=1):
        return self.text[self.at : self.at + length]

    def take(self, expected=None):
        character = self.peek()
        if not character or (expected is not None and character != expected):
            raise InvalidKeyPattern(self.unexpected(expected))
        self.at += 1
        return character

    def unexpected(self, expected=None):
        found = f"{self.peek()!r} at position {self.at + 1}" if self.peek() else "the end"
        wanted = f"expected {expected!r}, found" if expected else "unexpected"
        return f"Not an accepted key pattern: {wanted} {found}."

    def parse(self):
        if not self.text.startswith("^") or not self.text.endswith("$"):
            raise InvalidKeyPattern("A key pattern must start with ^ and end with $.")
        self.take("^")
        parts = []
        while self.peek() and self.peek() != "[":
            if len(parts) == MAX_PREFIX_PARTS:
                raise InvalidKeyPattern(
                    f"At most {MAX_PREFIX_PARTS} prefix parts (literal text or groups)."
                )
            parts.append(self.group() if self.peek() == "(" else [self.literal()])
        if self.peek() != "[":
            raise InvalidKeyPattern(
                "A key pattern needs one character class, such as [A-Za-z0-9], after its prefix."
            )
        allowed = self.character_class()
        low, high = self.length()
        if self.peek() == "[":
            raise InvalidKeyPattern(
                "Only one character class is accepted (two in a row can make a pattern slow "
                "to check): merge them into one, such as [A-Za-z0-9_-]."
            )
        self.take("$")
        if self.at != len(self.text):
            raise InvalidKeyPattern(
                "Nothing may follow the length: one character class, then $, ends the pattern."
            )
        spellings = ["".join(choice) for choice in product(*parts)]
        if len(spellings) > MAX_SPELLINGS:
            raise InvalidKeyPattern(
                f"The prefix can be written {len(spellings)} ways; at most {MAX_SPELLINGS}."
            )
        return KeyPattern(
            spellings=tuple(spellings),
            allowed=frozenset(allowed),
            min_length=low,
            max_length=high,
        )

    def literal(self):
        text = []
        while self.peek():
            character = self.peek()
            if character == "\\" and self.peek(2)[1:] in _LITERAL_ESCAPED:
                text.append(self.peek(2)[1])
                self.at += 2
            elif character in _LITERAL_PLAIN:
                text.append(character)
                self.at += 1
            else:
                break
        if not text:
            raise InvalidKeyPattern(self.describe_problem())
        if self.peek() in ("?", "*", "+", "{"):
            raise InvalidKeyPattern(
                "Only a group can be optional in the prefix: write (x)? instead of x?, and "
                "put repeated characters in the class."
            )
        return "".join(text)

    def group(self):
        self.take("(")
        if self.peek(2) == "?:":
            self.at += 2
        options = [self.literal()]
        while self.peek() == "|":
            self.take("|")
            options.append(self.literal())
        self.take(")")
        if self.peek() == "?":
            self.take("?")
            options.append("")
        elif self.peek() in ("*", "+", "{"):
            raise InvalidKeyPattern(
                "A group cannot be repeated (that is what makes a pattern slow to check); "
                "it may only be optional, with ?."
            )
        return options

    def character_class(self):
        self.take("[")
        if self.peek() == "^":
            raise InvalidKeyPattern("A negated character class [^…] is not accepted.")
        allowed = set()
        first = True
        while self.peek() and self.peek() != "]":
            character = self.peek()
            if character == "\\":
                escaped = self.peek(2)[1:]
                if escaped not in _CLASS_ESCAPED:
                    raise InvalidKeyPattern(
                        "Inside [...], only \\-, \\_ and \\. may be escaped (\\w and \\d "
                        "also match non-ASCII characters: write a-z, A-Z, 0-9 instead)."
                    )
                allowed.add(escaped)
                self.at += 2
            elif character == "-" and (first or self.peek(2) == "-]"):
                allowed.add("-")
                self.at += 1
            elif character in _CLASS_PLAIN:
                self.at += 1
                if self.peek() == "-" and self.peek(2) != "-]":
                    self.at += 1
                    end = self.take()
                    allowed.update(_character_range(character, end))
                else:
                    allowed.add(character)
            else:
                raise InvalidKeyPattern(
                    f"Inside [...], {character!r} is not accepted: use letters, digits, "
                    "ranges such as a-z, and _ - ."
                )
            first = False
        self.take("]")
        if not allowed:
            raise InvalidKeyPattern("The character class is empty.")
        return allowed

    def length(self):
        if self.peek() == "+":
            self.take()
            return 1, None
        if self.peek() == "*":
            self.take()
            return 0, None
        if self.peek() != "{":
            raise InvalidKeyPattern(
                "The character class needs a length after it: {32}, {20,}, {20,64}, + or *."
            )
        self.take("{")
        low = self.number()
        high = low
        if self.peek() == ",":
            self.take(",")
            high = self.number() if self.peek() != "}" else None
        self.take("}")
        if high is not None and high < low:
            raise InvalidKeyPattern(
                f"The length {{{low},{high}}} has its maximum below its minimum."
            )
        return low, high

    def number(self):
        digits = ""
        while self.peek().isdigit() and self.peek().isascii():
            digits += self.take()
        if not digits:
            raise InvalidKeyPattern("A length must be a whole number, such as {32} or {20,}.")
        if int(digits) > MAX_LENGTH:
            raise InvalidKeyPattern(f"A length may be at most {MAX_LENGTH}.")
        return int(digits)

    def describe_problem(self):
        character = self.peek()
        if character in ("(", ")", "|"):
            return "Groups may hold only literal alternatives, such as (ghp_|github_pat_)."
        if character == ".":
            return (
                "A bare . matches any character: write \\. for a literal dot, and list the "
                "characters a key may hold in the one character class."
            )
        if character == "\\":
            return "In the prefix only \\-, \\_ and \\. may be escaped (no \\w, \\d or \\1)."
        return self.unexpected()


def _character_range(start, end):
    same_kind = any(
        start in kind and end in kind
        for kind in ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789")
    )
    if not same_kind or start > end:
        raise InvalidKeyPattern(
            f"The range {start}-{end} is not accepted: use ranges within lowercase letters, "
            "uppercase letters or digits, such as a-z, A-F or 0-9."
        )
    return {chr(code) for code in range(ord(start), ord(end) + 1)}
