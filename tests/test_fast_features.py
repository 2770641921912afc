"""The fast path (TokenCache, CommentFeaturizer, SubwordVectorizer) against the reference.

The reference is what the model computed before the fast path existed: ``analyze`` per
comment, scikit-learn's ``TfidfVectorizer`` on the normalised text, character n-grams
counted word by word, and the signal columns, stacked like the ``ColumnTransformer``.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from commentqa import signals, tokens
from commentqa.features import (
    WORD_PATTERN,
    CommentFeaturizer,
    CommentPreparer,
    SubwordVectorizer,
    TokenCache,
)
from commentqa.signals import SIGNAL_NAMES, analyze

ROOT = Path(__file__).resolve().parent.parent
TRAINING_DATA = ROOT / "training" / "data"
CORPUS = ROOT.parent / "shared" / "corpus"

EDGE_CASES = [
    "", " ", "   \n\t ", "\u3000\xa0\u2003", "\x00", "a\x00b \x00@ana", "\ud800 lone surrogate",
    "👩‍💻 👨‍👩‍👧‍👦 family", "👏🏽👏🏿 skin", "🇧🇷🇲🇾🇺🇸 flags", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "❤️❤️‍🔥♥", "1️⃣ first #️⃣ *️⃣",
    "wow🔥so good", "Ⓜ️ ℹ️ Ωmega ™ © ®", "“quoted” – dash … ellipsis",
    "Love it&#39;s color<br />@ana.b https://bit.ly/x #OOTD 25€",
    "a<br/>b<BR >c &amp;lt;br&amp;gt;",
    "x&nbsp;y&#32;z &#10;new&#x9;tab &lt;3 R&D &amp; co", "<3 <br", "&",
    "see www.shop-now.com/x?y=1, or murdev.com!", "link:https://x.co/a(b) glued.com/path",
    "(@ana) (#tag) [@bo] @ana@bo #a#b ##c @_ x@y.com @ana.", "#2024 #️⃣ #ootd!!",
    "नमस्ते 🙏 bahut sundar", "مرحبا 😍 جميل؟", "很好看！😂", "Где купить? 🔥 ОЧЕНЬ КРАСИВО",
    "İstanbul IĞDIR ıi İi", "ΣΑΣ ὈΔΥΣΣΕΎΣ σς Σ", "ǅungla ǈ", "Ⓐbc ⓐ", "café naïve e\u0301 n\u0303",
    "²³ ½ ٣٤ ۵ १२ 12,000 $5 5$ RM45 RM 45 rp10 5 k 5k 20 bucks 3 euros usd 5 5rs 10 rb",
    "₹500 ¥ ₩1 ₱ £ €", "I made $5000 a week from home, dm me", "check my\tpage", "dm\nus",
    "a week from", "a  week from", "recheck mystery", "follow me", "FOLLOW ME", "my channel",
    "soooo prettyyyy!!!!!! ???? ?!?!?! ...... ----", "YEAR 2000 aaa111bbb", "OK", "THIS IS IT",
    "¿Dónde? ¿Cuánto?", "where", "Where?", "link pls", "berapa harga sis",
    "\t\ttabs\tand\nnewlines\r\nand\vvt\x1c\x1d\x1e\x1f",
]


def _jsonl_texts(paths) -> list[str]:
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


@pytest.fixture(scope="module")
def training_texts() -> list[str]:
    return _jsonl_texts(sorted(TRAINING_DATA.glob("*.jsonl")))


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    path = CORPUS / "real_comments.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus/real_comments.jsonl is absent")
    return _jsonl_texts([path])


def _with_variants(texts: list[str]) -> list[str]:
    """The texts, the texts with a distinct handle, and a shuffled copy."""
    shuffled = texts[:]
    random.Random(0).shuffle(shuffled)
    return texts + [f"{t} @u{i}" for i, t in enumerate(texts)] + shuffled


# -- references ---------------------------------------------------------------------------

def reference_prepared(texts: list[str]) -> tuple[list[str], np.ndarray]:
    pairs = [analyze(t) for t in texts]
    return [n for n, _ in pairs], np.array([v for _, v in pairs]).reshape(-1, len(SIGNAL_NAMES))


def reference_chars(vec: SubwordVectorizer, norms: list[str]) -> sp.csr_matrix:
    """Character n-gram TF-IDF counted word by word, one document at a time."""
    lo, hi = vec.ngram_range
    data, indices, indptr = [], [], [0]
    for norm in norms:
        counts: Counter = Counter()
        for word in norm.split():
            padded = f" {word} "
            for size in range(lo, min(hi, len(padded)) + 1):
                for i in range(len(padded) - size + 1):
                    col = vec.vocabulary_.get(padded[i : i + size])
                    if col is not None:
                        counts[col] += 1
        weights = {col: (1 + math.log(n) if vec.sublinear_tf else n) * vec.idf_[col]
                   for col, n in counts.items()}
        length = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        indices += weights
        data += [w / length for w in weights.values()]
        indptr.append(len(indices))
    return sp.csr_matrix((data, indices, indptr), shape=(len(norms), len(vec.vocabulary_)))


def reference_matrix(words: TfidfVectorizer, chars: SubwordVectorizer,
                     texts: list[str]) -> sp.csr_matrix:
    norms, values = reference_prepared(texts)
    return sp.hstack([words.transform(norms), reference_chars(chars, norms),
                      sp.csr_matrix(values)], format="csr")


def assert_same_matrix(got: sp.csr_matrix, want: sp.csr_matrix) -> None:
    assert got.shape == want.shape
    diff = abs(got - want)
    assert (diff.max() if diff.nnz else 0.0) <= 1e-12


# -- token cache --------------------------------------------------------------------------

def _check_batch(cache: TokenCache, texts: list[str]) -> None:
    norms, values = reference_prepared(texts)
    batch = cache.analyze(texts)
    assert cache.norm_texts(batch) == norms
    mismatch = np.argwhere(batch.signals != values)
    assert not len(mismatch), [(texts[i], SIGNAL_NAMES[j]) for i, j in mismatch[:5]]


def test_edge_cases_match_analyze():
    cache = TokenCache(WORD_PATTERN)
    _check_batch(cache, _with_variants(EDGE_CASES))
    _check_batch(cache, [t.upper() for t in EDGE_CASES] + [t * 3 for t in EDGE_CASES])


def test_one_megabyte_text_matches_analyze():
    text = ("so good 😍 where is this from? @ana #ootd https://x.co/a RM 45 " * 20_000)[:1_000_000]
    _check_batch(TokenCache(), [text, text[:-1], "x"])


def test_training_corpus_matches_analyze(training_texts):
    _check_batch(TokenCache(WORD_PATTERN), _with_variants(training_texts))


@pytest.mark.corpus
def test_real_comments_match_analyze(real_texts):
    cache = TokenCache(WORD_PATTERN)
    _check_batch(cache, real_texts)
    _check_batch(cache, _with_variants(real_texts[:3000]))  # warm cache, new handles


def test_hash_collisions_are_resolved(monkeypatch):
    # Every token hashes alike: each lookup must fall back to comparing code points.
    monkeypatch.setattr(tokens, "_hash_powers", lambda n: np.zeros(max(n, 1), np.uint64))
    cache = TokenCache(WORD_PATTERN)
    _check_batch(cache, EDGE_CASES)
    _check_batch(cache, _with_variants(EDGE_CASES))


def test_raw_facts_of_many_tokens_equal_one_at_a_time(training_texts):
    toks = list(dict.fromkeys(
        t.translate(tokens._ZERO_DIGITS)
        for text in [*EDGE_CASES, *training_texts] for t in text.split()))
    toks += ["\U0001f525!", "\u3000x"[1:], "ß\u0130", "\U0001d7d8\U0001d7d9", "K\u212a"]
    found = tokens._Tokens(tokens._code_points("\n".join(toks)))
    batch = signals.raw_facts_of_tokens(toks, found.codes, found.starts, found.lengths)
    expected = np.array([signals.raw_token_facts(t) for t in toks])
    wrong = np.flatnonzero((batch != expected).any(axis=1))
    assert not wrong.size, [toks[k] for k in wrong[:10]]


def test_gates_cover_every_code_point():
    """The cheap character checks stand for regexes; prove they miss nothing."""
    space = [c for c in range(0x110000) if chr(c).isspace()]
    assert max(space) < len(tokens._SPACE) - 1
    assert np.flatnonzero(tokens._SPACE).tolist() == space
    head, tail = re.compile("[mpdrl]", re.I), re.compile("[krdeb]", re.I)
    for code in range(0x110000):
        char = chr(code)
        assert not head.fullmatch(char) or char in signals._AMOUNT_HEAD_LAST
        assert not tail.fullmatch(char) or char in signals._AMOUNT_TAIL_FIRST


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # pandas stores text as UTF-8 (Arrow): no lone surrogates
        return False
    return True


def test_comment_preparer_frame_matches_analyze(training_texts):
    texts = training_texts[:3000] + [t for t in EDGE_CASES if _encodable(t)]
    frame = CommentPreparer().fit_transform(texts)
    norms, values = reference_prepared(texts)
    assert list(frame.columns) == ["text_norm", *SIGNAL_NAMES]
    assert frame["text_norm"].tolist() == norms
    np.testing.assert_array_equal(frame[list(SIGNAL_NAMES)].to_numpy(), values)
    assert CommentPreparer().fit_transform([]).shape == (0, len(SIGNAL_NAMES) + 1)


# -- feature matrices and probabilities ---------------------------------------------------

def _parts(model):
    named = model.pipeline.named_steps["features"].named_transformers_
    return named["words"], named["chars"]


SOURCES = ["training", pytest.param("real", marks=pytest.mark.corpus), "edge"]


def _texts(source: str, request) -> list[str]:
    if source == "edge":
        return _with_variants(EDGE_CASES)
    return request.getfixturevalue(f"{source}_texts")


@pytest.mark.parametrize("source", SOURCES)
def test_featurizer_matches_reference_matrix(model, source, request):
    texts = _texts(source, request)
    featurizer = CommentFeaturizer.from_pipeline(model.pipeline)
    words, chars = _parts(model)
    want = reference_matrix(words, chars, texts)
    assert_same_matrix(featurizer.transform(texts), want)
    assert_same_matrix(featurizer.transform(texts[::-1]), want[::-1])  # warm, other order


@pytest.mark.parametrize("source", SOURCES)
def test_model_probabilities_unchanged(model, source, request):
    texts = _texts(source, request)
    words, chars = _parts(model)
    classifier = model.pipeline.named_steps["classifier"]
    want = classifier.predict_proba(reference_matrix(words, chars, texts))[:, model._order]
    model.clear_cache()
    np.testing.assert_allclose(model.predict_proba(texts), want, rtol=0, atol=1e-9)
    keep = [i for i, t in enumerate(texts) if _encodable(t)]
    through_frame = model.pipeline.predict_proba([texts[i] for i in keep])
    np.testing.assert_allclose(through_frame[:, model._order], want[keep], rtol=0, atol=1e-9)


def test_a_texts_probabilities_do_not_depend_on_its_batch(model, training_texts):
    """To the last bit, whatever else is in the batch (BLAS sums in shape-dependent order)."""
    from commentqa import model as model_module

    long = [t for t in training_texts if len(t) > model_module.MEMO_MAX_CHARS][:800]
    alone = np.vstack([model.predict_proba([t]) for t in long[:40]])
    rng = random.Random(5)
    for size in (2, 3, 5, 9, 17, 100, 800):
        batch = rng.sample(long, size - 1)
        at = rng.randrange(size)
        for i in range(0, 40, 8):
            texts = [*batch[:at], long[i], *batch[at:]]
            np.testing.assert_array_equal(model.predict_proba(texts)[at], alone[i])


def test_remembered_probabilities_equal_fresh_ones(model, training_texts, monkeypatch):
    from commentqa import model as model_module

    monkeypatch.setattr(model_module, "MEMO_TEXTS", 300)  # the memo fills and starts over
    model.clear_cache()
    texts = training_texts[:2000]
    fresh = model.predict_proba(texts)
    rng = random.Random(3)
    for _ in range(5):  # shuffled batches that mix remembered and new texts
        order = rng.sample(range(len(texts)), 700)
        np.testing.assert_array_equal(model.predict_proba([texts[i] for i in order]),
                                      fresh[order])
    index, _ = model._memo.state
    assert 0 < len(index) <= 300 and all(len(t) <= model_module.MEMO_MAX_CHARS for t in index)
    model.clear_cache()


def test_memo_keeps_each_row_when_two_threads_remember_the_same_text():
    from commentqa.model import _ProbaMemo

    # Two threads that miss the same texts both score and remember them; a row in use must
    # never be handed out again (it was: rows were counted by distinct texts).
    memo = _ProbaMemo(2, 10)
    rows = {f"t{i}": np.array([i, -i], dtype=float) for i in range(6)}

    def remember(names):
        memo.remember(names, np.vstack([rows[n] for n in names]))

    remember(["t0", "t1", "t2"])
    remember(["t1", "t2", "t3"])  # t1 and t2 again, as a second thread would
    remember(["t4", "t5"])
    out = np.zeros((6, 2))
    assert memo.lookup(list(rows), out).size == 0
    np.testing.assert_array_equal(out, np.vstack(list(rows.values())))


def test_shared_model_predicts_the_same_from_many_threads(model, training_texts):
    from concurrent.futures import ThreadPoolExecutor

    model.clear_cache()
    texts = training_texts[:3000]
    want = model.predict_proba(texts)
    model.clear_cache()
    batches = [texts[i::7] for i in range(7)] * 3
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(model.predict_proba, batches))
    for k, proba in enumerate(got):
        np.testing.assert_allclose(proba, want[k % 7::7], rtol=0, atol=1e-12)
    model.clear_cache()


def test_clearing_the_cache_while_threads_predict_changes_no_result(model, training_texts):
    from concurrent.futures import ThreadPoolExecutor

    model.clear_cache()
    texts = training_texts[:2000]
    want = model.predict_proba(texts)
    batches = [texts[i::5] for i in range(5)] * 4
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(model.predict_proba, batch) for batch in batches]
        while not all(f.done() for f in futures):
            model.clear_cache()  # the memos are emptied in place, under the model's lock
        got = [f.result() for f in futures]
    for k, proba in enumerate(got):
        np.testing.assert_allclose(proba, want[k % 5::5], rtol=0, atol=1e-12)
    model.clear_cache()


@pytest.mark.parametrize("ngram_range", [(1, 2), (1, 1), (2, 2)])
def test_word_tfidf_matches_fresh_sklearn_vectorizer(training_texts, ngram_range):
    norms = reference_prepared(training_texts)[0]
    words = TfidfVectorizer(token_pattern=WORD_PATTERN, ngram_range=ngram_range, min_df=2,
                            lowercase=False, sublinear_tf=True, dtype=np.float64)
    words.fit(norms[::2])
    chars = SubwordVectorizer(ngram_range=(1, 3), min_df=3).fit(norms[::2])
    featurizer = CommentFeaturizer(words, chars)
    texts = training_texts[1::2] + EDGE_CASES
    assert_same_matrix(featurizer.transform(texts), reference_matrix(words, chars, texts))


def test_subword_vectorizer_matches_reference(training_texts):
    norms = reference_prepared(training_texts)[0]
    vec = SubwordVectorizer(min_df=2).fit(norms[: len(norms) // 2])
    rest = [*norms[len(norms) // 2 :], "", "zzqx ǅ 很好看 ab\x00c", "x" * 5000]
    assert_same_matrix(vec.transform(rest), reference_chars(vec, rest))
    assert_same_matrix(vec.transform(rest), reference_chars(vec, rest))  # memoised rows


def test_cache_limit_restarts_without_changing_results(model, training_texts):
    words, chars = _parts(model)
    featurizer = CommentFeaturizer(words, chars, max_tokens=50)
    texts = training_texts[:300]
    want = reference_matrix(words, chars, texts)
    for start in range(0, len(texts), 60):
        assert_same_matrix(featurizer.transform(texts[start : start + 60]),
                           want[start : start + 60])
    fresh = CommentFeaturizer(words, chars)
    fresh.transform(texts[240:])
    assert len(featurizer._tokens) == len(fresh._tokens)  # started afresh before the last
    # a restart keeps the arrays: filling them again with as many tokens allocates nothing
    fresh.clear()
    facts, rows = fresh._tokens._facts._data, fresh._rows._data._data
    assert_same_matrix(fresh.transform(texts[240:]), want[240:])
    assert fresh._tokens._facts._data is facts and fresh._rows._data._data is rows


def test_memos_are_not_pickled(model, training_texts):
    model.predict_proba([*training_texts[:200], "qwertyuiop unseen"])
    prepare = model.pipeline.named_steps["prepare"]
    prepare.transform(["warm the token cache"])
    chars = _parts(model)[1]
    chars.transform(["warm the n-gram rows: zzqxv"])
    assert "_token_cache" not in prepare.__getstate__()
    assert not {"_ngram_rows", "_gram_index_cache"} & set(chars.__getstate__())
    assert "_featurizer" not in model.__getstate__()
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict_proba(["wow", "price?"]),
                               model.predict_proba(["wow", "price?"]), rtol=0, atol=0)


def test_prepare_builds_now_the_tables_predicting_would_build():
    """A batch run prepares the model before forking its workers, so they share them."""
    from commentqa import load_model

    model = load_model()
    model.prepare()
    featurizer = model.__dict__["_featurizer"]
    index = featurizer.chars.__dict__["_gram_index_cache"]
    texts = ["zzqxv blorptastic wow", "where is this from?"]
    got = model.predict_proba(texts)
    assert model._featurizer is featurizer
    assert featurizer.chars.__dict__["_gram_index_cache"] is index
    np.testing.assert_array_equal(got, load_model().predict_proba(texts))


def test_other_pipelines_take_the_reference_path(model):
    from commentqa import CommentModel

    pipe = copy.deepcopy(model.pipeline)
    words = pipe.named_steps["features"].named_transformers_["words"]
    words.lowercase = True  # a setting the fast path does not mirror
    assert CommentFeaturizer.from_pipeline(pipe) is None
    other = CommentModel(pipe)
    texts = ["WOW", "Where is it FROM?", "check my channel"]
    np.testing.assert_allclose(other.predict_proba(texts),
                               pipe.predict_proba(texts)[:, other._order], rtol=0, atol=0)
