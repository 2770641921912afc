from __future__ import annotations

import json
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TRAINING_DATA = ROOT / "training" / "data"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def model():
    import commentqa

    return commentqa.load_model()


@pytest.fixture(scope="session")
def training_rows() -> list[dict]:
    rows = []
    for path in sorted(TRAINING_DATA.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    return rows


@pytest.fixture(scope="session")
def small_training_set(training_rows):
    """A stratified slice of the corpus: enough for contract tests, fast to fit."""
    per_label: dict[str, list[str]] = {}
    for row in training_rows:
        bucket = per_label.setdefault(row["label"], [])
        if len(bucket) < 120:
            bucket.append(row["text"])
    texts = [t for bucket in per_label.values() for t in bucket]
    labels = [label for label, bucket in per_label.items() for _ in bucket]
    return texts, labels


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "dev_labels.jsonl").is_file():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """Fits run with one BLAS thread, as ``commentqa train`` runs them: on a loaded 2-core
    machine, BLAS threads fighting over the cores made a 100-row fit take minutes."""
    with threadpool_limits(limits=1):
        yield
