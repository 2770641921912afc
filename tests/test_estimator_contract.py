"""The scikit-learn estimator contract, written out (check_estimator skips text input)."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from commentqa import build_pipeline
from commentqa.features import CommentPreparer, SubwordVectorizer


@pytest.fixture(scope="module")
def fitted(small_training_set):
    texts, labels = small_training_set
    return build_pipeline(calibration_cv=2).fit(texts, labels)


def test_init_only_stores_params():
    vec = SubwordVectorizer(ngram_range=(9, 1), min_df=-3)  # invalid, but __init__ must not care
    assert vec.get_params()["ngram_range"] == (9, 1)
    with pytest.raises(ValueError, match="ngram_range"):
        vec.fit(["abc"])


def test_clone_and_params_round_trip():
    pipe = build_pipeline(C=2.0)
    params = pipe.get_params()
    assert params["classifier__estimator__C"] == 2.0
    assert params["features__chars__ngram_range"] == (2, 5)
    twin = clone(pipe)
    twin.set_params(classifier__estimator__C=0.5, features__chars__min_df=3)
    assert twin.get_params()["classifier__estimator__C"] == 0.5
    assert pipe.get_params()["classifier__estimator__C"] == 2.0
    assert not hasattr(twin, "classes_")


def test_fit_returns_self_and_sets_learned_attributes(small_training_set):
    texts, _ = small_training_set
    prepared = CommentPreparer().fit_transform(texts)
    vec = SubwordVectorizer(min_df=2)
    assert vec.fit(prepared["text_norm"]) is vec
    assert vec.vocabulary_ and vec.idf_.shape == (len(vec.vocabulary_),)
    names = vec.get_feature_names_out()
    assert len(names) == len(vec.vocabulary_)


def test_subword_rows_are_l2_normalised_and_handle_unseen_words(small_training_set):
    texts, _ = small_training_set
    vec = SubwordVectorizer(min_df=1).fit([t.lower() for t in texts])
    x = vec.transform(["zxqv unseenword", "", "love it"])
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
    assert norms[1] == 0.0
    assert norms[0] == pytest.approx(1.0) and norms[2] == pytest.approx(1.0)


def test_subword_ngrams_match_char_wb_inside_words():
    vec = SubwordVectorizer(ngram_range=(2, 3), min_df=1).fit(["ab abc"])
    assert set(vec.vocabulary_) == {" a", "ab", "b ", " ab", "ab ", "bc", "c ", "abc", "bc "}


def test_pipeline_predicts_known_labels(fitted, small_training_set):
    texts, labels = small_training_set
    proba = fitted.predict_proba(texts[:50])
    assert proba.shape == (50, 4)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert set(fitted.predict(texts)) <= set(labels)


def test_joblib_round_trip_predicts_the_same(fitted, small_training_set, tmp_path):
    texts, _ = small_training_set
    fitted.predict_proba(["warm the unseen-word cache: qwertyuiop"])
    path = tmp_path / "pipe.joblib"
    joblib.dump(fitted, path)
    again = joblib.load(path)
    np.testing.assert_allclose(again.predict_proba(texts), fitted.predict_proba(texts))
    chars = again.named_steps["features"].named_transformers_["chars"]
    assert "_oov_cache" not in chars.__getstate__()


def test_usable_inside_grid_search(small_training_set):
    texts, labels = small_training_set
    search = GridSearchCV(
        build_pipeline(calibration_cv=2),
        {"classifier__estimator__C": [0.5, 4.0]},
        cv=2, scoring="f1_macro",
    )
    search.fit(texts, labels)
    assert search.best_params_["classifier__estimator__C"] in (0.5, 4.0)
    assert 0.0 < search.best_score_ <= 1.0


def test_grid_search_on_a_frame_column(small_training_set):
    """As the README shows it, with a pandas frame: folds are Series without index 0."""
    import pandas as pd

    texts, labels = small_training_set
    frame = pd.DataFrame({"text": texts, "label": labels}).sample(frac=1.0, random_state=0)
    search = GridSearchCV(build_pipeline(calibration_cv=2),
                          {"classifier__estimator__C": [0.5, 4.0]}, cv=3, scoring="f1_macro",
                          error_score="raise")
    search.fit(frame["text"], frame["label"])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_temperature_calibration_keeps_the_regressions_decision(small_training_set):
    texts, labels = small_training_set
    pipe = build_pipeline(calibration="temperature", calibration_cv=2).fit(texts, labels)
    calibrated = pipe.named_steps["classifier"]
    assert calibrated.get_params()["method"] == "temperature"
    (member,) = calibrated.calibrated_classifiers_
    held_out = ["where is this dress from", "🔥🔥🔥", "check my page for followers", "meh"]
    matrix = pipe[:-1].transform(held_out)
    proba = pipe.predict_proba(held_out)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # one temperature for all classes: the order of the regression's own scores is kept
    decision = member.estimator.decision_function(matrix)
    assert (proba.argmax(axis=1) == decision.argmax(axis=1)).all()
    assert (np.argsort(proba, axis=1) == np.argsort(decision, axis=1)).all()


def test_non_string_input_is_a_clear_error(fitted):
    with pytest.raises(TypeError, match="position 1"):
        fitted.predict(["ok", 5])
