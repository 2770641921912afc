"""Emoji variants: label-preserving copies of training rows, kept out of held-out folds."""

from __future__ import annotations

import random

import emoji
import numpy as np
import pytest

from commentqa import training
from commentqa.augment import PROBE_EMOJI, emoji_variant, emoji_variants, with_emoji


def test_a_comment_with_emoji_loses_them_all():
    rng = random.Random(0)
    text = "used it 2 weeks 👩🏽‍💻 and my acne is gone 🇧🇷😍😍\nwould buy again 👍🏿"
    bare = emoji_variant(text, rng)
    assert bare == "used it 2 weeks and my acne is gone\nwould buy again"
    assert emoji.emoji_count(bare) == 0


@pytest.mark.parametrize("text", ["🔥🔥🔥", "😍 ❤️ 👏🏽", "👨‍👩‍👧 🇯🇵", " 😭 "])
def test_an_emoji_only_comment_has_no_variant(text):
    assert emoji_variant(text, random.Random(0)) is None


def test_a_comment_without_emoji_gains_some_and_keeps_its_words():
    rng = random.Random(3)
    text = "does this come in a bigger size for men"
    for _ in range(200):
        variant = emoji_variant(text, rng)
        added = emoji.emoji_list(variant)
        assert 1 <= len(added) <= 4
        assert emoji.replace_emoji(variant, "").split() == text.split()


def test_variants_are_reproducible_and_their_share_follows_the_rate():
    texts = [f"comment number {i} about the blue dress" for i in range(2000)]
    half = emoji_variants(texts, 0.5, seed=7)
    assert half == emoji_variants(texts, 0.5, seed=7)
    assert half != emoji_variants(texts, 0.5, seed=8)
    assert 900 < len(half) < 1100
    assert all(emoji.replace_emoji(v, "").split() == texts[row].split() for row, v in half)
    assert emoji_variants(texts, 0.0) == []
    assert [row for row, _ in emoji_variants(texts, 1.0)] == list(range(2000))
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        emoji_variants(texts, 1.5)


def test_with_emoji_appends_the_probe_emoji_in_turn():
    out = with_emoji(["a", "b", "c"])
    assert out == [f"{t} {e}" for t, e in zip("abc", PROBE_EMOJI)]


def test_variants_join_only_their_own_rows_training_fold(monkeypatch):
    """No held-out comment is trained on in another guise."""
    texts = [f"row {i} says the serum broke me out" for i in range(40)]
    labels = ["conversation", "reaction", "question", "spam"] * 10
    variants = emoji_variants(texts, 1.0, seed=0)
    fitted_on = []

    class Fake:
        classes_ = np.asarray(sorted(set(labels)), dtype=object)

        def predict(self, x):
            return np.asarray(["reaction"] * len(x), dtype=object)

        def predict_proba(self, x):
            return np.full((len(x), len(self.classes_)), 1.0 / len(self.classes_))

    def fake_fit(fold_texts, fold_labels, *, C, seed, weights, variants, calibration):
        fitted_on.append((set(fold_texts), {fold_texts[row] for row, _ in variants},
                          {v for _, v in variants}))
        return Fake()

    monkeypatch.setattr(training, "fit_pipeline", fake_fit)
    train, test = np.arange(0, 30), np.arange(30, 40)
    training._fold(texts, labels, None, variants, train, test, 1.0, 0, "temperature")
    rows, sources, variant_texts = fitted_on[0]
    assert rows == set(texts[:30]) and sources == rows
    assert variant_texts == {v for row, v in variants if row < 30}


ROWS = [("link to the jacket pls", "question"), ("where did you get these shoes", "question"),
        ("price?", "question"), ("what camera is this", "question"),
        ("wow", "reaction"), ("so pretty", "reaction"), ("queen", "reaction"),
        ("amazing", "reaction"), ("check out my channel", "spam"), ("follow me back", "spam"),
        ("dm us to collab", "spam"), ("sub to my page", "spam"),
        ("the blue one fits you better", "conversation"),
        ("used it for a week and my skin cleared", "conversation"),
        ("mine broke after two days", "conversation"),
        ("we went there last summer, great food", "conversation")] * 3


def test_variants_add_examples_not_words():
    texts, labels = [t for t, _ in ROWS], [y for _, y in ROWS]
    plain = training.fit_pipeline(texts, labels, C=1.0)
    varied = training.fit_pipeline(texts, labels, C=1.0, emoji_rate=1.0)
    names = varied.named_steps["features"].get_feature_names_out()
    assert list(names) == list(plain.named_steps["features"].get_feature_names_out())
    assert varied.named_steps["classifier"].get_params()["cv"] == 5  # no index arrays kept
    assert varied.predict_proba(["wow"]).shape == (1, 4)
    assert not np.allclose(varied.predict_proba(texts), plain.predict_proba(texts))


def test_cross_validation_reports_emoji_robustness():
    texts, labels = [t for t, _ in ROWS], [y for _, y in ROWS]
    cv = training.cross_validate(texts, labels, C=1.0, folds=3, emoji_rate=0.5, jobs=1)
    assert cv["emoji_variants"]["rate"] == 0.5 and cv["emoji_variants"]["rows"] > 0
    assert 0 <= cv["emoji_appended"]["changed"] <= 1
    assert 0 < cv["emoji_appended"]["macro_f1"] <= 1
