"""The commentqa taxonomy: four labels and the order that breaks ties."""

from __future__ import annotations

__all__ = ["DESCRIPTIONS", "LABELS", "PRIORITY"]

#: The labels, in the fixed column order of every probability matrix.
LABELS: tuple[str, ...] = ("reaction", "question", "conversation", "spam")

#: When several labels apply, the first in this order wins (see training/GUIDELINES.md).
PRIORITY: tuple[str, ...] = ("spam", "question", "conversation", "reaction")

DESCRIPTIONS: dict[str, str] = {
    "reaction": "skin-deep: emoji, hype, generic praise or negativity, bare @mentions, "
    "rhetorical questions",
    "question": "asks for information about the product, item, place, price or the "
    "creator's content",
    "conversation": "specific engagement: experience, opinion with a reason, advice, answers, "
    "detailed complaints",
    "spam": "self-promotion, bots, scams or promotion of something unrelated to the post",
}
