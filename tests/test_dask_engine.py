"""The Dask adapter gives what ``commentqa score`` gives, however the rows are partitioned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
import dask  # noqa: E402
from test_batch import _frame_of_fixture, read  # noqa: E402

from commentqa.batch import score_files  # noqa: E402
from commentqa.dask_engine import (  # noqa: E402
    REJECT_COLUMN,
    post_counts,
    score_comments,
    score_posts,
)
from commentqa.scoring import POST_COLUMNS, PROBA_COLUMNS, PostTally, score_frame  # noqa: E402


@pytest.fixture(scope="module")
def fixture_frame() -> pd.DataFrame:
    return _frame_of_fixture()


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_posts_equal_the_batch_scorer(tmp_path, model, fixture_frame, partitions):
    src = tmp_path / "dump.jsonl"
    src.write_text(fixture_frame.to_json(orient="records", lines=True), encoding="utf-8")
    score_files([str(src)], tmp_path / "o", model=model, jobs=1)
    cli_posts = read(tmp_path / "o", "posts", "parquet")
    cli_comments = read(tmp_path / "o", "comments", "parquet")

    scored = score_comments(dd.from_pandas(fixture_frame, npartitions=partitions), model)
    posts = score_posts(scored, split_out=2).compute().sort_values("post_id")
    assert list(posts.columns) == ["post_id", *POST_COLUMNS]
    pd.testing.assert_frame_equal(posts.reset_index(drop=True), cli_posts, check_dtype=False)
    comments = scored.compute()
    assert comments["id"].tolist() == cli_comments["comment_id"].tolist()
    assert comments["label"].astype(str).tolist() == cli_comments["label"].tolist()
    np.testing.assert_allclose(comments[list(PROBA_COLUMNS)].to_numpy(),
                               cli_comments[list(PROBA_COLUMNS)].to_numpy())
    assert comments[REJECT_COLUMN].isna().all()


def test_rows_without_text_are_kept_with_a_reason(model, fixture_frame):
    frame = fixture_frame.copy()
    frame["text"] = frame["text"].astype(object)
    frame.loc[[2, 5], "text"] = None
    frame.loc[7, "text"] = 42
    frame.loc[8, "text"] = "nul\x00byte"
    frame.loc[9, "text"] = ""  # an empty comment is a comment
    with dask.config.set({"dataframe.convert-string": False}):  # keep the int an int
        ddf = dd.from_pandas(frame, npartitions=3)
    scored = score_comments(ddf, model).compute()
    assert len(scored) == len(frame)  # nothing lost
    rejected = scored[scored[REJECT_COLUMN].notna()]
    assert rejected.index.tolist() == [2, 5, 7, 8]
    assert rejected[REJECT_COLUMN].tolist() == [  # the batch scorer's reasons
        "field 'text': null", "field 'text': null", "field 'text': expected a string, got int",
        "field 'text': contains NUL bytes"]
    assert rejected["label"].isna().all() and rejected[list(PROBA_COLUMNS)].isna().all().all()
    assert scored.loc[9, "label"] in model.labels
    kept = scored[scored[REJECT_COLUMN].isna()]
    np.testing.assert_allclose(kept[list(PROBA_COLUMNS)].to_numpy(),
                               score_frame(model, frame.drop(index=[2, 5, 7, 8]))[
                                   list(PROBA_COLUMNS)].to_numpy())
    # Rejected rows are not counted in their posts.
    posts = score_posts(score_comments(ddf, model)).compute()
    assert posts["comments"].sum() == len(frame) - 4


def test_post_counts_merge_across_partitions_and_processes(model):
    rng = np.random.default_rng(1)
    n = 2_000
    texts = np.array(["🔥🔥🔥", "where is this from?", "used it for a month, my skin is calmer",
                      "check my page for promo", "so pretty", "link pls"], dtype=object)
    frame = pd.DataFrame({
        "text": texts[rng.integers(0, len(texts), n)],
        "post_id": [f"p{k}" for k in rng.integers(0, 150, n)],
        "author": [f"u{k}" if k else None for k in rng.integers(0, 90, n)],
        "parent_id": [None if r else "c0" for r in rng.integers(0, 4, n)],
        "is_creator": rng.random(n) < 0.05,
    })
    whole = PostTally.from_scored(score_frame(model, frame)).posts()
    counts = post_counts(score_comments(dd.from_pandas(frame, npartitions=1), model)).compute()
    assert counts.loc[whole["post_id"], "unique_commenters"].fillna(0).astype(int).tolist() == \
        whole["unique_commenters"].fillna(0).astype(int).tolist()
    with dask.config.set(scheduler="processes", num_workers=2):
        posts = score_posts(score_comments(dd.from_pandas(frame, npartitions=7), model),
                            split_out=3).compute()
    pd.testing.assert_frame_equal(posts.sort_values("post_id").reset_index(drop=True), whole,
                                  check_dtype=False)


def test_each_partition_is_tallied_once(model, fixture_frame, monkeypatch):
    from commentqa import dask_engine

    calls = []

    def counted(scored):
        calls.append(len(scored))
        return PostTally.from_scored(scored)

    monkeypatch.setattr(dask_engine, "PostTally", type("Counted", (), {
        "from_scored": staticmethod(counted)}))
    scored = score_comments(dd.from_pandas(fixture_frame, npartitions=4), model)
    with dask.config.set(scheduler="synchronous"):
        score_posts(scored).compute()
    assert len(calls) == 4


def test_a_missing_column_is_one_clear_error(model, fixture_frame):
    ddf = dd.from_pandas(fixture_frame, npartitions=2)
    with pytest.raises(ValueError, match=r"score_comments needs column\(s\) 'body'; the frame "
                                         r"has 'id', 'post_id'"):
        score_comments(ddf, model, text_column="body")
    with pytest.raises(ValueError, match=r"post_counts needs column\(s\) 'label'"):
        score_posts(ddf)


def test_the_shipped_model_travels_as_a_reference_and_is_checked(model, fixture_frame):
    import pickle

    from commentqa import ModelLoadError
    from commentqa.dask_engine import _load_reference, _Shipped
    from commentqa.persistence import default_model_path

    by_default = score_comments(dd.from_pandas(fixture_frame, npartitions=2))
    by_path = score_comments(dd.from_pandas(fixture_frame, npartitions=2),
                             default_model_path())
    with dask.config.set(scheduler="processes", num_workers=2):
        for scored in (by_default, by_path):
            np.testing.assert_allclose(
                scored[list(PROBA_COLUMNS)].compute().to_numpy(),
                score_frame(model, fixture_frame)[list(PROBA_COLUMNS)].to_numpy())
    reference = pickle.dumps(_Shipped(model, None, by_reference=True))
    assert len(reference) < 1_000  # a path and a hash, not the model
    assert pickle.loads(reference).model.meta["model_sha256"] == model.meta["model_sha256"]
    assert len(pickle.dumps(_Shipped(model))) > 1_000_000  # a loaded model travels whole
    with pytest.raises(ModelLoadError, match=r"the shipped model on this worker has SHA-256 "
                                             r".*install the same commentqa"):
        _load_reference(None, "0" * 64)
    with pytest.raises(ModelLoadError, match="not found"):
        score_comments(dd.from_pandas(fixture_frame, npartitions=2), "/no/such/model")


def test_yes_no_columns_as_text_count_as_the_batch_scorer_counts_them(tmp_path, model):
    """Dask's string conversion (and CSV readers) give ``"false"``: not a creator comment."""
    frame = pd.DataFrame({"comment_id": ["1", "2", "3", "4"], "post_id": ["p"] * 4,
                          "text": ["where is this from?", "love it", "thanks!", "wow"],
                          "author": ["a", "b", "creator", "c"],
                          "parent_id": [None, None, "1", None],
                          "is_creator": ["false", "False", "true", None]})
    src = tmp_path / "c.csv"
    frame.to_csv(src, index=False)
    score_files([str(src)], tmp_path / "o", model=model, jobs=1)
    cli_posts = read(tmp_path / "o", "posts", "parquet")
    assert cli_posts.loc[0, "creator_comments"] == 1
    posts = score_posts(score_comments(dd.from_pandas(frame, npartitions=2), model)).compute()
    pd.testing.assert_frame_equal(posts.reset_index(drop=True), cli_posts, check_dtype=False)
    [core] = PostTally.from_scored(score_frame(model, frame)).posts().to_dict("records")
    assert core["creator_comments"] == 1 and core["top_level"] == 3
