"""The training corpus meets the spec: size, balance, spread, no duplicates, no copying."""

from __future__ import annotations

import collections
import json
import re
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


# Training rows this close (character 3-5-gram cosine) to a labeled development comment are
# treated as derived from it: the dev set must stay an honest window onto real comments.
DEV_SIMILARITY_LIMIT = 0.6
# Short generic phrases ("love this", "beautiful ❤") recur everywhere; only rows with at
# least this many words have wording of their own to compare.
MIN_WORDS_TO_COMPARE = 3


def test_no_training_row_is_derived_from_a_dev_comment(training_rows):
    if not (CORPUS / "dev_labels.jsonl").is_file():
        pytest.skip("../shared/corpus is absent")
    from sklearn.feature_extraction.text import TfidfVectorizer

    dev_ids = {json.loads(line)["id"] for line in
               (CORPUS / "dev_labels.jsonl").read_text(encoding="utf-8").splitlines() if line}
    with open(CORPUS / "real_comments.jsonl", encoding="utf-8") as fh:
        dev = [normalise(r["text"]) for r in map(json.loads, fh) if r["id"] in dev_ids]
    train = [t for t in (normalise(r["text"]) for r in training_rows)
             if len(re.findall(r"[^\W\d_]{2,}", t.replace("@u", ""))) >= MIN_WORDS_TO_COMPARE]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(dev + train)
    sim = vec.transform(train) @ vec.transform(dev).T
    close = sorted({train[i] for i in sim.multiply(sim >= DEV_SIMILARITY_LIMIT).tocoo().row})
    assert close == []
