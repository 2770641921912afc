"""Text normalisation for the n-gram features.

Emoji become stable word tokens (``emj_fire``), URLs, @handles and numbers become
placeholders, case is folded, elongations are squeezed (``sooooo`` -> ``soo``) and
HTML leftovers from platform exports (``<br />``, ``&#39;``) are undone.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from .emojis import EMOJI_RUN, emoji_token, split_run

__all__ = [
    "HASHTAG", "HASHTAG_TOKEN", "MENTION", "MENTION_TOKEN", "URL", "URL_TOKEN", "clear_caches",
    "has_url", "normalize", "normalize_unescaped", "normalize_with_counts", "undo_html",
]

URL_TOKEN = " xurlx "
MENTION_TOKEN = " xmentionx "
HASHTAG_TOKEN = " xhashtagx "

URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|ly|io|co|me|gg|link|shop|app)\b(?:/\S*)?",
    re.I,
)
# Cheap pre-check: the full URL pattern is only run when one of these can match.
_URL_HINT = re.compile(r"https?://|www\.|\.(?:com|net|org|ly|io|co|me|gg|link|shop|app)\b", re.I)
MENTION = re.compile(r"(?<![\w@])@[\w.]*\w")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.I)
_DIGITS = re.compile(r"\d+")
_HAS_DIGIT = re.compile(r"\d")
# Letters only: "2000" or "000" must not count as an elongation.
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT_RUN = re.compile(r"([^\w\s])\1{2,}")
_PUNCT_HINT = re.compile(r"[^\w\s]{3}")


def has_url(text: str) -> bool:
    """True when ``text`` may hold a URL (a fast, exact-enough gate for :data:`URL`)."""
    return _URL_HINT.search(text) is not None


def undo_html(text: str) -> str:
    """Undo platform-export HTML: ``<br />`` becomes a space, entities are unescaped."""
    if "<" in text:
        text = _HTML_BREAK.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def normalize_with_counts(text: str) -> tuple[str, int, int, int, int, int]:
    """Normalise ``text`` and count what was replaced on the way.

    Returns ``(normalised, n_emoji, n_mentions, n_hashtags, n_urls, n_elongations)``.
    """
    return normalize_unescaped(undo_html(text))


def normalize_unescaped(text: str) -> tuple[str, int, int, int, int, int]:
    """:func:`normalize_with_counts` for text that :func:`undo_html` has already seen.

    Every step below works inside whitespace-separated tokens, so normalising a text
    equals normalising its tokens one by one and joining them with spaces, counts summed.
    """
    if text.isascii() and text.isalpha():  # a plain word: only case and elongation change
        text = text.lower()
        if not _ELONGATED.search(text):
            return text, 0, 0, 0, 0, 0
    n_emoji = n_mentions = n_hashtags = n_urls = 0
    if not text.isascii():

        def emoji_words(match: re.Match) -> str:
            nonlocal n_emoji
            words, count = _emoji_run_words(match.group())
            n_emoji += count
            return words

        text = EMOJI_RUN.sub(emoji_words, text)
    if ("." in text or ":" in text) and has_url(text):  # every URL has one of the two
        text, n_urls = URL.subn(URL_TOKEN, text)
    if "@" in text:
        text, n_mentions = MENTION.subn(MENTION_TOKEN, text)
    if "#" in text:
        text, n_hashtags = HASHTAG.subn(HASHTAG_TOKEN + r"\1", text)
    text = text.lower()
    if _HAS_DIGIT.search(text):
        text = _DIGITS.sub("0", text)
    n_elongations = 0
    if _ELONGATED.search(text):  # search first: a substitution with a template costs more
        text, n_elongations = _ELONGATED.subn(r"\1\1", text)
    if _PUNCT_HINT.search(text):
        text = _PUNCT_RUN.sub(r"\1\1", text)
    return " ".join(text.split()), n_emoji, n_mentions, n_hashtags, n_urls, n_elongations


@lru_cache(maxsize=8192)
def _emoji_run_words(run: str) -> tuple[str, int]:
    """A run of :data:`EMOJI_RUN` with each emoji as a spaced word, and the emoji count."""
    out, count = [], 0
    for piece, is_emoji in split_run(run):
        if is_emoji:
            count += 1
            out.append(f" {emoji_token(piece)} ")
        else:
            out.append(piece)
    return "".join(out), count


def clear_caches() -> None:
    """Forget the memoised emoji runs and emoji names (for cold-start measurements)."""
    _emoji_run_words.cache_clear()
    emoji_token.cache_clear()


def normalize(text: str) -> str:
    """Normalise one comment for the word and character n-gram features.

    >>> normalize("OMG sooooo pretty 😍 @ana.b where?? https://x.co/a #OOTD $25")
    'omg soo pretty emj_smiling_face_with_heart_eyes xmentionx where?? xurlx xhashtagx ootd $0'
    """
    return normalize_with_counts(text)[0]
