"""Comment-level text signals: emoji, @mentions, #hashtags, URLs, question and request
cues, elongation, all-caps, length and shape.

:func:`analyze` normalises a comment and computes its signals in one pass; it is the
reference. :func:`extract_signals` returns the signals of one comment as a flat dict of
named numbers. The spaCy components in :mod:`commentqa.spacy_components` mark the same
things token by token.

Batch featurisation (:class:`commentqa.tokens.TokenCache`) computes the same values from
per-token facts: nearly every signal is a sum or an "any" over a comment's
whitespace-separated tokens, because no pattern here matches across whitespace.
:func:`raw_token_facts` (:func:`raw_facts_of_tokens` for a batch) and :func:`norm_token_facts`
give one token's share, :func:`signal_matrix` turns per-comment sums back into signals,
and the three checks that do look across tokens are exact too: the first token
(``starts_with_*``), an amount whose ``\\s?`` spans one space (:data:`AMOUNT_LEFT` /
:data:`AMOUNT_RIGHT` flag candidates for :func:`has_amount`) and :data:`SPAM_PHRASES`
(:func:`phrase_masks`, :func:`phrase_hits`).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .lexicon import INFO_NOUNS, QUESTION_WORDS, REQUEST_WORDS, SPAM_PHRASES, SPAM_WORDS
from .normalize import HASHTAG_TOKEN, MENTION_TOKEN, URL_TOKEN, normalize_with_counts

__all__ = [
    "COUNT_FACTS", "NORM_FACTS", "PHRASE_COLUMNS", "RAW_FACTS", "SIGNAL_NAMES", "WORD_FACTS",
    "analyze", "extract_signals", "has_amount", "is_elongated", "norm_token_facts",
    "phrase_hits", "phrase_masks", "raw_facts_of_tokens", "raw_token_facts", "signal_matrix",
]

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
_QUESTION_SET = frozenset(_QUESTION_MARKS)
_CURRENCY_SIGNS = "$€£₹¥₱₩"
_CURRENCY = re.compile(f"[{_CURRENCY_SIGNS}]")
_AMOUNT_BEFORE = r"(?:rm|rp|usd|eur|inr|idr|php|brl)"
_AMOUNT_AFTER = r"(?:k|rb|ribu|euro|euros|dollars|bucks|rs)"
_AMOUNT = re.compile(rf"\b{_AMOUNT_BEFORE}\s?\d|\d\s?{_AMOUNT_AFTER}\b", re.I)
_AMOUNT_HEAD = re.compile(rf"\b{_AMOUNT_BEFORE}\Z", re.I)  # ends a token: "RM" of "RM 45"
_AMOUNT_TAIL = re.compile(rf"{_AMOUNT_AFTER}\b", re.I)  # starts a token: "k" of "5 k"
_MIN_LETTERS_FOR_CAPS = 4  # "OK" or "LOL" alone is not shouting


def is_elongated(token: str) -> bool:
    """True for a word with a letter repeated three or more times (``sooo``)."""
    return _ELONGATED.search(token) is not None


def has_amount(text: str) -> bool:
    """True when ``text`` names an amount of money in words (``RM45``, ``5k``, ``20 bucks``)."""
    return _AMOUNT.search(text) is not None


def _comment_words(norm: str) -> list[str]:
    """Words of normalised text, emoji tokens and placeholders left out."""
    return [w for w in _WORD.findall(norm) if not w.startswith("emj_") and w not in _PLACEHOLDERS]


def analyze(text: str) -> tuple[str, tuple[float, ...]]:
    """Normalised text and the :data:`SIGNAL_NAMES` values of one comment."""
    norm, n_emoji, n_mentions, n_hashtags, n_urls, n_elongated = normalize_with_counts(text)
    toks = _comment_words(norm)
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
        float(_CURRENCY.search(text) is not None or (digits > 0 and has_amount(text))),
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


# -- per-token facts ----------------------------------------------------------------------

#: Facts of a token's original characters, in :func:`raw_token_facts` order.
RAW_FACTS: tuple[str, ...] = (
    "upper", "letters", "digits", "decimal", "exclamations", "question_mark", "currency",
    "amount", "amount_left", "amount_right", "at_start",
)
#: Bits of ``amount_left`` / ``amount_right``: an amount may span the space between a
#: token whose ``amount_left`` and the next token whose ``amount_right`` share a bit.
AMOUNT_LEFT = {"currency_word": 1, "digit": 2}
AMOUNT_RIGHT = {"digit": 1, "amount_word": 2}
# Characters that can end a currency word / start an amount word (re.I included: the
# Kelvin sign matches "k").
_AMOUNT_HEAD_LAST = frozenset("mpdrlMPDRL")
_AMOUNT_TAIL_FIRST = frozenset("krdebKRDEB\u212a")
_CURRENCY_SET = frozenset(_CURRENCY_SIGNS)
#: Counts :func:`~commentqa.normalize.normalize_unescaped` returns for a token.
COUNT_FACTS: tuple[str, ...] = ("emoji", "mentions", "hashtags", "urls", "elongations")
#: Facts of a normalised token, in :func:`norm_token_facts` order.
WORD_FACTS: tuple[str, ...] = (
    "words", "question_word", "request_word", "info_noun", "spam_word", "first_question_word",
)
#: Facts of a token once normalised: its counts, then its word facts.
NORM_FACTS: tuple[str, ...] = COUNT_FACTS + WORD_FACTS


def _amount_edges(token: str, letters_only: bool) -> tuple[int, int]:
    """``amount_left`` and ``amount_right`` bits of a token."""
    first, last = token[0], token[-1]
    # A token of letters only has no word boundary inside: there, a currency or amount
    # word must be the whole token.
    head = (last in _AMOUNT_HEAD_LAST and (not letters_only or len(token) <= 3)
            and _AMOUNT_HEAD.search(token) is not None)
    tail = (first in _AMOUNT_TAIL_FIRST and (not letters_only or len(token) <= 7)
            and _AMOUNT_TAIL.match(token) is not None)
    left = AMOUNT_LEFT["currency_word"] * head + AMOUNT_LEFT["digit"] * last.isdecimal()
    right = AMOUNT_RIGHT["digit"] * first.isdecimal() + AMOUNT_RIGHT["amount_word"] * tail
    return left, right


def raw_token_facts(token: str) -> tuple[int, ...]:
    """:data:`RAW_FACTS` of one non-empty token without whitespace."""
    upper = 0 if token.islower() else sum(map(str.isupper, token))
    letters_only = token.isalpha()
    left, right = _amount_edges(token, letters_only)
    if letters_only:  # no digits, marks or symbols
        return upper, len(token), 0, 0, 0, 0, 0, 0, left, right, 0
    decimal = _DIGIT.search(token) is not None
    return (
        upper,
        sum(map(str.isalpha, token)),
        sum(map(str.isdigit, token)) if decimal or not token.isascii() else 0,
        int(decimal),
        token.count("!"),
        int(not _QUESTION_SET.isdisjoint(token)),
        int(not _CURRENCY_SET.isdisjoint(token)),
        int(decimal and has_amount(token)),
        left,
        right,
        int(token[0] == "@"),
    )


# Per code point, in this column order: isupper, isalpha, isdigit, isdecimal, "!", a question
# mark, a currency sign, "@", a last character of a currency word, a first character of an
# amount word. Built for the first _FLAG_TABLE code points on first use; rarer ones are
# looked up one distinct code point at a time.
_FLAG_TABLE = 0x3000
_flag_table: np.ndarray | None = None


def _flags_of(chars: str) -> np.ndarray:
    tests = (str.isupper, str.isalpha, str.isdigit, str.isdecimal, "!".__eq__,
             _QUESTION_SET.__contains__, _CURRENCY_SET.__contains__, "@".__eq__,
             _AMOUNT_HEAD_LAST.__contains__, _AMOUNT_TAIL_FIRST.__contains__)
    out = np.empty((len(chars), len(tests)), dtype=bool)
    for k, test in enumerate(tests):
        out[:, k] = np.fromiter(map(test, chars), bool, len(chars))
    return out


def _char_flags(codes: np.ndarray) -> np.ndarray:
    """The flag columns above for each code point of ``codes``."""
    global _flag_table
    if _flag_table is None:
        _flag_table = _flags_of("".join(map(chr, range(_FLAG_TABLE))))
    out = _flag_table[np.minimum(codes, _FLAG_TABLE - 1)]
    rare = np.flatnonzero(codes >= _FLAG_TABLE)
    if rare.size:
        distinct, inverse = np.unique(codes[rare], return_inverse=True)
        out[rare] = _flags_of("".join(map(chr, distinct.tolist())))[inverse]
    return out


_RAW_COLUMN = {name: k for k, name in enumerate(RAW_FACTS)}


def raw_facts_of_tokens(tokens: list[str], codes: np.ndarray, starts: np.ndarray,
                        lengths: np.ndarray) -> np.ndarray:
    """:func:`raw_token_facts` of many tokens at once, one row each.

    ``codes`` holds the code points of ``"\n".join(tokens)`` and ``starts`` / ``lengths``
    where each token lies in it (tokens are non-empty and hold no whitespace). The per-token
    sums and "any" tests run on numpy arrays; only tokens that may hold an amount or an
    amount word go through the regexes.
    """
    n = len(tokens)
    out = np.zeros((n, len(RAW_FACTS)), dtype=np.int64)
    if not n:
        return out
    flags = _char_flags(codes)
    # Each sum runs from a token's start to the next one's: the "\n" between has no flag.
    upper, alpha, digit, decimal, bang, question, currency = (
        np.add.reduceat(flags[:, k].view(np.int8), starts, dtype=np.int64) for k in range(7))
    first, last = flags[starts], flags[starts + lengths - 1]
    letters_only = alpha == lengths
    col = _RAW_COLUMN
    out[:, col["upper"]] = upper
    out[:, col["letters"]] = alpha
    out[:, col["digits"]] = digit
    out[:, col["decimal"]] = decimal > 0
    out[:, col["exclamations"]] = bang
    out[:, col["question_mark"]] = question > 0
    out[:, col["currency"]] = currency > 0
    out[:, col["at_start"]] = first[:, 7]
    head = last[:, 8] & (~letters_only | (lengths <= 3))
    tail = first[:, 9] & (~letters_only | (lengths <= 7))
    for k in np.flatnonzero(head).tolist():
        head[k] = _AMOUNT_HEAD.search(tokens[k]) is not None
    for k in np.flatnonzero(tail).tolist():
        tail[k] = _AMOUNT_TAIL.match(tokens[k]) is not None
    for k in np.flatnonzero(decimal).tolist():
        out[k, col["amount"]] = has_amount(tokens[k])
    out[:, col["amount_left"]] = (AMOUNT_LEFT["currency_word"] * head
                                  + AMOUNT_LEFT["digit"] * last[:, 3])
    out[:, col["amount_right"]] = (AMOUNT_RIGHT["digit"] * first[:, 3]
                                   + AMOUNT_RIGHT["amount_word"] * tail)
    return out


def _lexicon_bits() -> dict[str, int]:
    """Per word, a bit for each lexicon it is in: question, request, info noun, spam."""
    bits: dict[str, int] = {}
    for bit, words in enumerate((QUESTION_WORDS, REQUEST_WORDS, INFO_NOUNS, SPAM_WORDS)):
        for word in words:
            bits[word] = bits.get(word, 0) | 1 << bit
    return bits


_LEXICON_BITS = _lexicon_bits()


def norm_token_facts(norm: str) -> tuple[int, ...]:
    """:data:`WORD_FACTS` of one normalised token."""
    # A token of letters only is one word of its own (no emoji token, no placeholder).
    toks = [norm] if norm.isalpha() and norm not in _PLACEHOLDERS else _comment_words(norm)
    if not toks:
        return 0, 0, 0, 0, 0, 0
    bits = 0
    for w in toks:
        bits |= _LEXICON_BITS.get(w, 0)
    return (len(toks), bits & 1, bits >> 1 & 1, bits >> 2 & 1, bits >> 3 & 1,
            int(toks[0] in QUESTION_WORDS))


# -- spam phrases over word streams -----------------------------------------------------

def _phrase_groups(phrases: tuple[str, ...]) -> list[list[list[str]]]:
    """Phrases split at spaces, grouped by word count, at most 62 per group (int64 bits)."""
    by_size: dict[int, list[list[str]]] = {}
    for phrase in phrases:
        by_size.setdefault(phrase.count(" "), []).append(phrase.split(" "))
    return [group[i : i + 62] for _, group in sorted(by_size.items())
            for i in range(0, len(group), 62)]


_PHRASE_GROUPS = _phrase_groups(SPAM_PHRASES)
#: One mask column per (phrase group, word position in the phrase).
PHRASE_COLUMNS: tuple[tuple[int, int], ...] = tuple(
    (g, j) for g, group in enumerate(_PHRASE_GROUPS) for j in range(len(group[0]))
)


def _column_test(group: list[list[str]], j: int) -> tuple[str, tuple[str, ...]]:
    last = len(group[0]) - 1
    kind = "in" if last == 0 else "end" if j == 0 else "start" if j == last else "equal"
    return kind, tuple(parts[j] for parts in group)


_COLUMN_TESTS = [_column_test(_PHRASE_GROUPS[g], j) for g, j in PHRASE_COLUMNS]


def _part_matches(word: str, kind: str, part: str) -> bool:
    if kind == "in":
        return part in word
    if kind == "end":
        return word.endswith(part)
    return word.startswith(part) if kind == "start" else word == part


def phrase_masks(word: str) -> tuple[int, ...]:
    """Per :data:`PHRASE_COLUMNS`: bit k set when ``word`` can be word j of phrase k.

    A phrase "a b c" occurs in space-joined words exactly when some word ends with "a",
    the next one is "b" and the one after starts with "c"; a one-word phrase is a substring.
    """
    masks = []
    for kind, parts in _COLUMN_TESTS:
        maybe = (word.endswith(parts) if kind == "end" else
                 word.startswith(parts) if kind == "start" else
                 word in parts if kind == "equal" else True)
        masks.append(sum(1 << k for k, part in enumerate(parts)
                         if _part_matches(word, kind, part)) if maybe else 0)
    return tuple(masks)


def phrase_hits(masks: np.ndarray, words: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Which comments hold one of :data:`SPAM_PHRASES` in their normalised text.

    ``masks`` holds :func:`phrase_masks` by word id, ``words`` the word ids of all
    comments in order and ``ptr`` each comment's offsets into ``words``.
    """
    hits = np.zeros(len(ptr) - 1, dtype=bool)
    doc = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    column = 0
    for group in _PHRASE_GROUPS:
        span = len(group[0]) - 1
        heads = masks[words[: max(len(words) - span, 0)], column]
        pos = np.flatnonzero(heads)
        pos = pos[doc[pos] == doc[pos + span]]  # all words in one comment
        acc = heads[pos]
        for j in range(1, span + 1):
            acc &= masks[words[pos + j], column + j]
        hits[doc[pos[acc != 0]]] = True
        column += span + 1
    return hits


# -- signals from per-comment sums ------------------------------------------------------

_LOG1P = np.array([math.log1p(i) for i in range(4096)])


def _log1p(counts: np.ndarray) -> np.ndarray:
    """``math.log1p`` of non-negative whole numbers, bit for bit."""
    counts = counts.astype(np.int64)
    out = _LOG1P[np.minimum(counts, len(_LOG1P) - 1)]
    big = np.flatnonzero(counts >= len(_LOG1P))
    out[big] = [math.log1p(c) for c in counts[big].tolist()]
    return out


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` where ``part`` > 0, else 0."""
    out = np.zeros(len(part))
    some = part > 0
    out[some] = part[some] / whole[some]
    return out


def signal_matrix(n_chars: np.ndarray, raw: np.ndarray, norm: np.ndarray,
                  flags: dict[str, np.ndarray]) -> np.ndarray:
    """:data:`SIGNAL_NAMES` columns of many comments, as :func:`analyze` computes them.

    ``raw`` and ``norm`` hold per-comment sums of :data:`RAW_FACTS` and :data:`NORM_FACTS`;
    ``flags`` the cross-token checks ``starts_with_mention``, ``starts_with_question_word``,
    ``amount_across`` (an amount spanning a space) and ``spam_phrase``.
    """
    r = dict(zip(RAW_FACTS, raw.T))
    t = dict(zip(NORM_FACTS, norm.T))
    n_emoji, n_mentions, n_hashtags = t["emoji"], t["mentions"], t["hashtags"]
    n_words = np.maximum(t["words"] - n_hashtags, 0)
    digits = np.where(r["decimal"] > 0, r["digits"], 0)
    upper = np.where(r["letters"] >= _MIN_LETTERS_FOR_CAPS, r["upper"], 0)
    columns = {
        "log_chars": _log1p(n_chars),
        "log_words": _log1p(n_words),
        "log_emoji": _log1p(n_emoji),
        "emoji_share": _share(n_emoji, n_emoji + n_words),
        "emoji_only": (n_emoji > 0) & (n_words == 0) & (n_mentions == 0) & (digits == 0),
        "log_mentions": _log1p(n_mentions),
        "mention_only": (n_mentions > 0) & (n_words == 0),
        "starts_with_mention": flags["starts_with_mention"],
        "log_hashtags": _log1p(n_hashtags),
        "log_urls": _log1p(t["urls"]),
        "question_mark": r["question_mark"] > 0,
        "question_word": t["question_word"] > 0,
        "starts_with_question_word": flags["starts_with_question_word"],
        "request_word": t["request_word"] > 0,
        "info_noun": t["info_noun"] > 0,
        "money": (r["currency"] > 0) | (r["amount"] > 0) | flags["amount_across"],
        "spam_word": t["spam_word"] > 0,
        "spam_phrase": flags["spam_phrase"],
        "elongated": t["elongations"] > 0,
        "caps_share": _share(upper, r["letters"]),
        "log_exclamations": _log1p(r["exclamations"]),
        "digit_share": _share(digits, n_chars),
    }
    out = np.empty((len(n_chars), len(SIGNAL_NAMES)))
    for i, name in enumerate(SIGNAL_NAMES):
        out[:, i] = columns[name]
    return out
