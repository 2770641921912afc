"""Emoji variants of training comments: the same comment with emoji added or taken away.

Real commenters put emoji on every kind of comment; a written corpus puts them mostly on
reactions and spam (in the team's corpus 65% of reactions and 77% of spam carry one, against
11% of questions and 18% of conversations). Trained on such text alone, a model reads an emoji
as evidence of a label: appending one "😍😍" or "🔥🔥🔥" to held-out comments changed 16% of
its predictions (``training/EXPERIMENTS.md``). An emoji neither adds nor removes substance
(``training/GUIDELINES.md``), so a variant keeps its row's label and weight, and training on
rows and variants together teaches the model to look past them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import emoji

__all__ = ["COMMENT_EMOJI", "PROBE_EMOJI", "emoji_variant", "emoji_variants", "with_emoji"]

#: Emoji drawn into variants, with relative weights: a judgement of how common each is under
#: posts across platforms (hearts, laughing and crying faces, fire and hands first), not a
#: count taken from any dataset.
COMMENT_EMOJI: dict[str, int] = {
    "❤️": 10, "😍": 8, "😂": 8, "🔥": 6, "😭": 5, "🙏": 5, "🥰": 4, "✨": 3, "👏": 3, "💕": 3,
    "😊": 3, "👍": 3, "🤣": 3, "😅": 2, "💯": 2, "🙌": 2, "💖": 2, "🥹": 2, "👌": 2, "🤔": 2,
    "💀": 2, "😁": 2, "🤍": 1, "😘": 1, "🤩": 1, "👀": 1, "🫶": 1, "👏🏽": 1, "🙏🏻": 1, "😆": 1,
    "💪": 1, "🎉": 1, "😩": 1, "♥️": 1, "😌": 1, "🥲": 1,
}
_EMOJI = list(COMMENT_EMOJI)
_WEIGHTS = list(COMMENT_EMOJI.values())
#: How many emoji a variant gets, drawn uniformly from this tuple (one is the most common).
_RUN_LENGTHS = (1, 1, 1, 2, 2, 3, 3, 4)
#: Where added emoji go: the end of the comment, its start, or between two words.
_AT_END, _AT_START = 0.75, 0.10
#: Emoji appended to held-out comments to measure how much predictions depend on them.
PROBE_EMOJI = ("😍😍", "❤️", "🔥🔥🔥", "😂", "🙏", "✨")

_SPACES = re.compile(r"[^\S\n]+")
_READABLE = re.compile(r"\w")


def emoji_variant(text: str, rng: random.Random) -> str | None:
    """``text`` without its emoji when it has any (``None`` when no letter or digit would be
    left), else ``text`` with one to four emoji at its end, its start or between two words."""
    if emoji.emoji_count(text):
        lines = _SPACES.sub(" ", emoji.replace_emoji(text, "")).split("\n")
        bare = "\n".join(line.strip() for line in lines).strip()
        return bare if _READABLE.search(bare) else None
    k = rng.choice(_RUN_LENGTHS)
    run = (rng.choice(_EMOJI) * k if rng.random() < 0.5
           else "".join(rng.choices(_EMOJI, _WEIGHTS, k=k)))
    where = rng.random()
    words = text.split(" ")
    if where < _AT_END or len(words) < 3:
        return text.rstrip() + (" " if rng.random() < 0.7 else "") + run
    if where < _AT_END + _AT_START:
        return f"{run} {text}"
    cut = rng.randrange(1, len(words))
    return " ".join([*words[:cut], run, *words[cut:]])


def emoji_variants(texts: Sequence[str], rate: float, seed: int = 0) -> list[tuple[int, str]]:
    """``(row, variant)`` for about ``rate`` of ``texts`` (each row drawn with that chance,
    reproducibly from ``seed``); rows whose variant would be unreadable give none."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"the share of rows given an emoji variant must be in [0, 1], got {rate}")
    if not rate:
        return []
    rng = random.Random(seed)
    out = []
    for row, text in enumerate(texts):
        if rng.random() < rate:
            variant = emoji_variant(text, rng)
            if variant is not None and variant != text:
                out.append((row, variant))
    return out


def with_emoji(texts: Sequence[str]) -> list[str]:
    """Each text with one of :data:`PROBE_EMOJI` appended (in turn, so it is reproducible)."""
    return [f"{t} {PROBE_EMOJI[i % len(PROBE_EMOJI)]}" for i, t in enumerate(texts)]
