"""Comment-level text signals: emoji, @mentions, #hashtags, URLs, question and request
cues, elongation, all-caps, length and shape.

:func:`analyze` normalises a comment and computes its signals in one pass; the model's
featurizer uses it. :func:`extract_signals` returns the signals of one comment as a
flat dict of named numbers. The spaCy components in :mod:`commentqa.spacy_components`
mark the same things token by token.
"""

from __future__ import annotations

import math
import re

from .lexicon import INFO_NOUNS, QUESTION_WORDS, REQUEST_WORDS, SPAM_PHRASES, SPAM_WORDS
from .normalize import HASHTAG_TOKEN, MENTION_TOKEN, URL_TOKEN, normalize_with_counts

__all__ = ["SIGNAL_NAMES", "analyze", "extract_signals", "is_elongated"]

#: Names of the signals, in column order. Counts are log1p-scaled so that one long
#: comment cannot dominate a linear model; shares and flags are in [0, 1].
SIGNAL_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "log_emoji",
    "emoji_share",
    "emoji_only",
    "log_mentions",
    "mention_only",
    "starts_with_mention",
    "log_hashtags",
    "log_urls",
    "question_mark",
    "question_word",
    "starts_with_question_word",
    "request_word",
    "info_noun",
    "money",
    "spam_word",
    "spam_phrase",
    "elongated",
    "caps_share",
    "log_exclamations",
    "digit_share",
)

# Words of normalised text; underscores kept so emoji tokens stay whole.
_WORD = re.compile(r"[^\W\d]+")
_PLACEHOLDERS = frozenset(t.strip() for t in (URL_TOKEN, MENTION_TOKEN, HASHTAG_TOKEN))
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_DIGIT = re.compile(r"\d")
_QUESTION_MARKS = ("?", "？", "¿", "؟")
_CURRENCY = re.compile(r"[$€£₹¥₱₩]")
_AMOUNT = re.compile(
    r"\b(?:rm|rp|usd|eur|inr|idr|php|brl)\s?\d|\d\s?(?:k|rb|ribu|euro|euros|dollars|bucks|rs)\b",
    re.I,
)
_MIN_LETTERS_FOR_CAPS = 4  # "OK" or "LOL" alone is not shouting


def is_elongated(token: str) -> bool:
    """True for a word with a letter repeated three or more times (``sooo``)."""
    return _ELONGATED.search(token) is not None


def analyze(text: str) -> tuple[str, tuple[float, ...]]:
    """Normalised text and the :data:`SIGNAL_NAMES` values of one comment."""
    norm, n_emoji, n_mentions, n_hashtags, n_urls, n_elongated = normalize_with_counts(text)
    toks = [w for w in _WORD.findall(norm) if not w.startswith("emj_") and w not in _PLACEHOLDERS]
    # A hashtag's word is a tag, not a word of the comment.
    n_words = max(len(toks) - n_hashtags, 0) if n_hashtags else len(toks)
    token_set = set(toks)
    upper = letters = 0
    if not text.islower():  # has cased letters and at least one capital, or none at all
        upper = sum(map(str.isupper, text))
        if upper:
            letters = sum(map(str.isalpha, text))
            if letters < _MIN_LETTERS_FOR_CAPS:
                upper = 0
    digits = sum(map(str.isdigit, text)) if _DIGIT.search(text) else 0
    values = (
        math.log1p(len(text)),
        math.log1p(n_words),
        math.log1p(n_emoji),
        n_emoji / (n_emoji + n_words) if n_emoji else 0.0,
        float(n_emoji > 0 and n_words == 0 and n_mentions == 0 and not digits),
        math.log1p(n_mentions),
        float(n_mentions > 0 and n_words == 0),
        float(text.lstrip().startswith("@")),
        math.log1p(n_hashtags),
        math.log1p(n_urls),
        float(any(q in text for q in _QUESTION_MARKS)),
        float(not token_set.isdisjoint(QUESTION_WORDS)),
        float(bool(toks) and toks[0] in QUESTION_WORDS),
        float(not token_set.isdisjoint(REQUEST_WORDS)),
        float(not token_set.isdisjoint(INFO_NOUNS)),
        float(_CURRENCY.search(text) is not None
              or (digits > 0 and _AMOUNT.search(text) is not None)),
        float(not token_set.isdisjoint(SPAM_WORDS)),
        float(any(p in norm for p in SPAM_PHRASES)),
        float(n_elongated > 0),
        upper / letters if upper else 0.0,
        math.log1p(text.count("!")),
        digits / len(text) if digits else 0.0,
    )
    return norm, values


def extract_signals(text: str) -> dict[str, float]:
    """Named signals of one comment.

    >>> s = extract_signals("link pls?? 😍😍")
    >>> s["request_word"], s["info_noun"], s["question_mark"], s["emoji_only"]
    (1.0, 1.0, 1.0, 0.0)
    """
    return dict(zip(SIGNAL_NAMES, analyze(text)[1]))
