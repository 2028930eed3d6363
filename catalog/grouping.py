"""Which provider listings are one model: the grouping rule.

models.dev lists each provider's models under the provider's own ids: Llama 3.3 70B is
"llama-3.3-70b-instruct" at Azure, "meta-llama/Llama-3.3-70B-Instruct-Turbo" at Together,
"meta.llama3-3-70b-instruct-v1:0" at Bedrock and "llama-3.3-70b-versatile" at Groq. Its
`family` field is far coarser ("llama" holds every Llama), and it has no base-model field,
so the id is what groups listings, normalised by `group_key()`:

1. lower case; only the last "/" segment (organisation and routing prefixes go:
   "meta-llama/", "@cf/meta/", "workers-ai/");
2. a ":" suffix that names a variant, not a model: ":free" (OpenRouter's free variant),
   a bare number (Bedrock's ":0") and reasoning modes (":thinking", ":high", ...) are
   dropped; any other (":8b", a size) stays, joined with "-";
3. a cloud's "<region>.<vendor>." prefix ("us.anthropic.", "meta.") is dropped;
4. ".", "_" and spaces become "-";
5. trailing snapshot and packaging words are dropped, repeatedly: a date ("-20241022",
   "-2024-10-22", "@20241022", "@default"), a version after a date or a lone "-v1", a quantisation
   ("-fp8", "-bf16", "-int4", "-awq", "-fp8-fast", ...), a serving label ("-versatile",
   "-instant", "-maas", "-tput", "-turbo" after "instruct") and "-instruct" / "-it".
   Not "-fast", "-mini" or "-turbo" alone: "grok-4-fast" and "gpt-4-turbo" are models;
6. a "-" between a letter and a digit is dropped, so "llama-3-3" and "llama3-3" agree.

Snapshots of one model ("claude-sonnet-4-5" and "claude-sonnet-4-5-20250929") are one
Model with an Offering per listing, each with its own id and price. The rule is
deliberately conservative: a wrong split only shows a model at fewer providers, a wrong
merge would put different models' prices side by side. Names and `family` are not used
to merge (names vary too much: "Llama-3.3-70B-Instruct", "Meta: Llama 3.3 70B
Instruct"); the family is shown and filtered on.

Maintainers override the rule in the admin in two ways, both kept by every sync:
- a ModelAlias sends every listing whose key is the alias to the chosen model
  (for example "llama3-3-70b" to Llama 3.3 70B Instruct);
- an Offering's model set by hand stays where it was put.
"""

import re

FREE_VARIANT = "free"
_DROPPED_VARIANT = re.compile(r"^(?:free|\d+|thinking(?::\w+)?|low|medium|high|max|web)$")
_CLOUD_PREFIX = re.compile(
    r"^(?:(?:us|eu|au|ap|apac|jp|ca|global|us-gov)\.)?"
    r"(?:ai21|amazon|anthropic|cohere|deepseek|google|luma|meta|minimax|mistral|moonshot|"
    r"moonshotai|nvidia|openai|qwen|stability|twelvelabs|writer|zai)\."
)
_DATE = r"(?:20\d\d-?[01]\d-?[0-3]\d)"
_TRAILING = re.compile(
    r"(?:[-@]" + _DATE + r"(?:-v\d+)?"
    r"|@default"
    r"|-v1"
    r"|-(?:fp8|fp16|bf16|int4|int8|awq|gguf|dynamic|fp8-fast)"
    r"|-(?:versatile|instant|maas|tput)"
    r"|-(?:instruct-turbo|instruct|it))$"
)
_LETTER_DIGIT = re.compile(r"(?<=[a-z])-(?=\d)")


def split_variant(listing_id):
    """(id without a dropped variant suffix, variant or "")."""
    text = listing_id.strip().lower().rsplit("/", 1)[-1]
    base, sep, variant = text.partition(":")
    if sep and not _DROPPED_VARIANT.match(variant):
        return f"{base}-{variant.replace(':', '-')}", ""
    return base, variant


def readable_id(listing_id):
    """Steps 1-5 with dots kept: the id a new Model gets in its URL ("llama-3.3-70b")."""
    base, _ = split_variant(listing_id)
    base = _CLOUD_PREFIX.sub("", base)
    base = re.sub(r"[_\s]+", "-", base)
    while True:
        shorter = _TRAILING.sub("", base.replace(".", "-"))
        if shorter == base.replace(".", "-"):
            break
        # Cut the same number of characters from the dotted form (dots are 1 character).
        base = base[: len(shorter)]
    return base.strip("-.") or listing_id.strip().lower()[:120]


def group_key(listing_id):
    """The key that makes listings one Model (see the module docstring)."""
    key = readable_id(listing_id).replace(".", "-")
    return _LETTER_DIGIT.sub("", key)


def is_free_variant(listing_id):
    return split_variant(listing_id)[1] == FREE_VARIANT
