"""The training corpus meets the spec: size, balance, spread, no duplicates, no copying."""

from __future__ import annotations

import collections
import json
import sys

import pytest
from conftest import CORPUS, ROOT

sys.path.insert(0, str(ROOT / "training"))
from check_corpus import LABELS, near_duplicates, normalise

NON_ENGLISH = {"es", "pt", "ms", "id", "hi-Latn", "hi", "fr", "de", "tl", "it"}


def test_size_and_balance(training_rows):
    assert len(training_rows) >= 6000
    counts = collections.Counter(r["label"] for r in training_rows)
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 1000


def test_spread_over_niches_platforms_languages(training_rows):
    niches = collections.Counter(r["niche"] for r in training_rows)
    assert sum(1 for n in niches.values() if n >= 100) >= 10
    platforms = collections.Counter(r["platform"] for r in training_rows)
    assert set(platforms) == {"instagram", "tiktok", "youtube", "facebook", "reddit"}
    assert min(platforms.values()) >= 300
    langs = collections.Counter(r["lang"] for r in training_rows)
    assert sum(1 for lang in NON_ENGLISH if langs[lang] >= 150) >= 5


def test_no_duplicates_and_few_near_duplicates(training_rows):
    norm = [normalise(r["text"]) for r in training_rows]
    assert len(set(norm)) == len(norm)
    pairs = near_duplicates(norm, 0.9)
    involved = {i for p in pairs for i in p[:2]}
    assert len(involved) / len(norm) < 0.01


def test_nothing_copied_from_the_evaluation_corpus(training_rows):
    path = CORPUS / "real_comments.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus is absent")
    real = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = " ".join(json.loads(line)["text"].lower().split())
            if len(text) >= 12:
                real.add(text)
    copied = [r["text"] for r in training_rows if " ".join(r["text"].lower().split()) in real]
    assert copied == []
