"""Post resonance: how much of a post's audience comment section is meaningful.

A post's comments are tallied by label (see :mod:`commentqa.scoring`). Resonance is
computed from those counts only, so tallies from chunks, processes or machines can be
summed first and scored once.

Definition
----------
Each audience comment that is not spam carries a *meaning weight*: a question or a
conversation counts fully, a reaction a little. The post's observed meaningful share is

    m / n,  m = W_QUESTION * questions + W_CONVERSATION * conversations + W_REACTION * reactions
            n = questions + conversations + reactions        (the creator's own comments and
                                                               spam are left out)

Treating ``m`` as (fractional) successes out of ``n`` trials, the share is shrunk toward a
Beta prior with mean :data:`PRIOR_MEAN` worth :data:`PRIOR_COMMENTS` comments:

    resonance = (PRIOR_MEAN * PRIOR_COMMENTS + m) / (PRIOR_COMMENTS + n)

which is the posterior mean; ``resonance_low`` / ``resonance_high`` bound the central
:data:`INTERVAL` of the posterior Beta(a0 + m, b0 + n - m). A post with 3 comments stays
near the prior with a wide interval; one with 300 is scored by its own comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaincinv  # the beta quantile, without scipy.stats' import cost

__all__ = [
    "INTERVAL",
    "PRIOR_COMMENTS",
    "PRIOR_MEAN",
    "W_CONVERSATION",
    "W_QUESTION",
    "W_REACTION",
    "meaningful_mass",
    "post_scores",
]

#: A question about the product, price or place is the clearest sign that the audience
#: wants what the post shows (purchase intent): full weight.
W_QUESTION = 1.0
#: Conversation (experience, opinion with a reason, advice) shows the audience engaging
#: with the content itself; it is as costly to write as a question, so it also weighs fully.
W_CONVERSATION = 1.0
#: A reaction ("🔥", "so pretty") proves attention but says nothing about the content:
#: ten reactions are worth one meaningful comment.
W_REACTION = 0.1

#: Prior meaningful share. Comment sections are dominated by reactions (our labeling guide
#: and the public comment dumps we read put reactions at roughly 45-70% of non-spam
#: comments); with the weights above a section of 65% reactions scores 0.35 + 0.065 ~ 0.4,
#: and a conservative 0.3 keeps thinly commented posts from looking good by default.
PRIOR_MEAN = 0.3
#: Strength of the prior in comments: a post needs about this many comments before its own
#: comments weigh as much as the prior. Ten keeps a 3-comment post mostly at the prior while
#: a 300-comment post is 97% its own evidence.
PRIOR_COMMENTS = 10.0
#: Width of the reported credible interval.
INTERVAL = 0.90


def meaningful_mass(reactions, questions, conversations):
    """Weighted count of meaningful comments (the ``m`` of the module docstring)."""
    return W_QUESTION * np.asarray(questions, dtype=np.float64) + W_CONVERSATION * np.asarray(
        conversations, dtype=np.float64
    ) + W_REACTION * np.asarray(reactions, dtype=np.float64)


def post_scores(counts: pd.DataFrame) -> pd.DataFrame:
    """Resonance and its interval plus share figures, from per-post counts.

    ``counts`` needs the columns ``reaction``, ``question``, ``conversation``, ``spam``
    (audience comments per label), ``top_level``, ``replies`` and ``creator_replies``.
    Returns a frame on the same index with ``resonance``, ``resonance_low``,
    ``resonance_high``, ``question_share``, ``conversation_share``, ``spam_share``,
    ``reply_depth`` and ``creator_reply_rate``.
    """
    reactions = counts["reaction"].to_numpy(np.float64)
    questions = counts["question"].to_numpy(np.float64)
    conversations = counts["conversation"].to_numpy(np.float64)
    spam = counts["spam"].to_numpy(np.float64)
    n = reactions + questions + conversations
    m = meaningful_mass(reactions, questions, conversations)
    a = PRIOR_MEAN * PRIOR_COMMENTS + m
    b = (1.0 - PRIOR_MEAN) * PRIOR_COMMENTS + (n - m)
    tail = (1.0 - INTERVAL) / 2.0
    total = n + spam
    top_level = counts["top_level"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "resonance": a / (a + b),
            "resonance_low": betaincinv(a, b, tail),
            "resonance_high": betaincinv(a, b, 1.0 - tail),
            # Shares of all audience comments, spam included, so the three read together.
            "question_share": np.where(total > 0, questions / total, np.nan),
            "conversation_share": np.where(total > 0, conversations / total, np.nan),
            "spam_share": np.where(total > 0, spam / total, np.nan),
            # Replies per top-level comment: how far threads go beyond the first comment.
            "reply_depth": np.where(
                top_level > 0, counts["replies"].to_numpy(np.float64) / top_level, np.nan
            ),
            # Creator replies per audience top-level comment, capped at 1.
            "creator_reply_rate": np.where(
                top_level > 0,
                np.minimum(counts["creator_replies"].to_numpy(np.float64) / top_level, 1.0),
                np.nan,
            ),
        }
    return pd.DataFrame(out, index=counts.index)
