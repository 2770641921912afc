"""Training a model on labeled comments: checks, cross-validation, the choice of C, and a
saved artifact (``model.joblib``, ``meta.json``, model card) that loads like the shipped one."""

from __future__ import annotations

import collections
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .augment import emoji_variants, with_emoji
from .evaluation import classification_report, macro_f1
from .featurizer import CHAR_NGRAMS, MAX_WORD_NGRAM, WORD_NGRAMS
from .io import InputError
from .labeled import LabeledComments
from .labels import LABELS
from .linear import CALIBRATIONS, DEFAULT_CALIBRATION
from .model_card import write_model_card
from .persistence import check_name, files_sha256, load_model, save_model

__all__ = ["CALIBRATIONS", "CHAR_NGRAMS", "DEFAULT_CALIBRATION", "DEFAULT_EMOJI_RATE",
           "MAX_WORD_NGRAM", "MIN_ROWS_PER_LABEL", "WORD_NGRAMS", "TrainingData", "TrainingResult",
           "check_ngram_ranges", "cross_validate", "fit_pipeline", "format_ngram_range",
           "parse_ngram_range", "train_model"]

#: Fewest rows a label needs: the outer folds and the calibration's own five folds each
#: need a few of every label in training.
MIN_ROWS_PER_LABEL = 10
#: Folds of the probability calibration inside every fit (``build_pipeline``'s default).
CALIBRATION_FOLDS = 5
#: Smaller language groups get too noisy a macro-F1 to report.
MIN_LANG_ROWS = 30
#: The inverse L2 strength the shipped model uses (chosen by grouped CV on its corpus).
DEFAULT_C = 16.0
#: Share of the team's written corpus given an emoji variant for the shipped model
#: (:mod:`commentqa.augment`; chosen by grouped CV, ``training/EXPERIMENTS.md``).
#: ``commentqa train`` defaults to none: real labeled comments carry real emoji.
DEFAULT_EMOJI_RATE = 1.0
#: The labels in the order scikit-learn's classifiers and metrics put them in.
_SORTED_LABELS = sorted(LABELS)


@dataclass
class TrainingData:
    """Labeled comments from one or more files, joined, with every skipped row's file, line
    and reason (:meth:`from_files`), or built in memory from ``texts`` and ``gold`` (and
    optionally ``groups``, ``langs`` and ``weights``, one per row; no weights: all 1)."""

    texts: list[str] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    digest: str = ""
    #: per usable row: (source, line), to point at conflicting rows
    where: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def from_files(cls, parts: Sequence[LabeledComments]) -> TrainingData:
        """Join what :func:`~commentqa.labeled.read_labeled` read from each file. A row
        without a group value (when groups were read) is a group of its own; no group value
        in any file is an :class:`InputError`."""
        data = cls()
        grouped = any(p.groups for p in parts)
        weighted = any(p.weights for p in parts)
        for part in parts:
            data.sources.append(part.source)
            data.texts += part.texts
            data.gold += part.gold
            data.where += [(part.source, line) for line in part.lines]
            if grouped:
                data.groups += [g if g is not None else f"\0{part.source}:{line}"
                                for g, line in zip(part.groups or [None] * len(part.gold),
                                                   part.lines)]
            data.langs += [lang or "und" for lang in (part.langs or [None] * len(part.gold))]
            if weighted:
                data.weights += part.weights or [1.0] * len(part.gold)
            data.skipped += [(part.source, line, reason) for line, reason in part.skipped]
        data.digest = files_sha256(data.sources)
        if grouped and all(g.startswith("\0") for g in data.groups):
            raise InputError(f"{', '.join(data.sources)}: no row has a value in the group "
                             "field; choose one with --group-field")
        return data

    @property
    def rows_read(self) -> int:
        return len(self.gold) + len(self.skipped)

    def repeats(self) -> tuple[int, list[tuple[tuple[str, int], tuple[str, int]]]]:
        """Rows whose text (stripped) an earlier row has, and for each text labeled
        differently on different rows, (source, line) of its first row and of the first row
        that contradicts it. Repeated texts can sit on both sides of a fold and flatter the
        cross-validated figures."""
        first: dict[str, int] = {}
        found: dict[str, tuple[tuple[str, int], tuple[str, int]]] = {}
        repeated = 0
        for i, text in enumerate(self.texts):
            key = text.strip()
            j = first.setdefault(key, i)
            repeated += j != i
            if self.gold[j] != self.gold[i] and key not in found:
                found[key] = (self._where(j), self._where(i))
        return repeated, list(found.values())

    def _where(self, i: int) -> tuple[str, int]:
        """(source, line) of usable row ``i``; ("", i + 1) for data built in memory."""
        return self.where[i] if self.where else ("", i + 1)

    def check(self, folds: int) -> None:
        """Raise :class:`InputError` when the data cannot train a four-label model with
        ``folds``-fold cross-validation (``folds`` 0: no cross-validation)."""
        counts = collections.Counter(self.gold)
        short = [f"{label} {counts[label]}" for label in LABELS
                 if counts[label] < MIN_ROWS_PER_LABEL]
        if short:
            raise InputError(
                f"{', '.join(self.sources)}: every label needs at least {MIN_ROWS_PER_LABEL} "
                f"rows to train and calibrate a model; too few: {', '.join(short)}")
        if folds and folds > len(self.gold):
            raise InputError(f"--folds {folds}: more folds than the {len(self.gold)} rows")
        if folds and self.groups and len(set(self.groups)) < folds:
            raise InputError(f"{len(set(self.groups))} groups are too few for {folds}-fold "
                             "cross-validation by group; use fewer --folds or another "
                             "--group-field")
        if folds:
            self._check_training_parts(folds)

    def _check_training_parts(self, folds: int) -> None:
        """Each cross-validation training part must hold enough rows of every label for the
        calibration's own folds; by group, a label in few groups may not."""
        splitter, _ = _folds(folds, self.groups or None, 0)
        gold = np.asarray(self.gold)
        for k, (train, _) in enumerate(_split(splitter, gold, gold, self.groups or None), 1):
            counts = collections.Counter(gold[train].tolist())
            short = [label for label in LABELS if counts[label] < CALIBRATION_FOLDS]
            if short:
                label = short[0]
                groups = {g for g, y in zip(self.groups, gold.tolist()) if y == label}
                spread = f" (its rows sit in {len(groups)} groups)" if self.groups else ""
                raise InputError(
                    f"fold {k} of {folds}: its training part has {counts[label]} {label!r} "
                    f"rows{spread}, and calibrating needs {CALIBRATION_FOLDS}; use fewer "
                    "--folds" + (" or a --group-field that spreads the labels"
                                 if self.groups else ""))


def _folds(folds: int, groups: Sequence[str] | None, seed: int):
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if groups:
        return GroupKFold(n_splits=folds), "GroupKFold by group"
    return (StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
            "StratifiedKFold, shuffled")


#: numpy's random seeds are 32-bit.
MAX_SEED = 2**32 - 1


def _split(splitter, x, y, groups) -> list:
    """The folds of ``splitter``, without scikit-learn's warning that a label has fewer rows
    than folds (some folds then test none of it: :func:`train_model` says so in its log)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class",
                                category=UserWarning)
        return list(splitter.split(x, y, groups))


def fit_pipeline(texts: Sequence[str], labels: Sequence[str], *, C: float = DEFAULT_C,
                 seed: int = 0, weights: Sequence[float] | None = None,
                 emoji_rate: float = 0.0, variants: list[tuple[int, str]] | None = None,
                 calibration: str = DEFAULT_CALIBRATION,
                 word_ngrams: tuple[int, int] = WORD_NGRAMS,
                 char_ngrams: tuple[int, int] = CHAR_NGRAMS):
    """:func:`~commentqa.build_pipeline` with ``C``, ``calibration`` and the n-gram ranges
    fitted on ``texts`` plus their emoji variants (:func:`~commentqa.augment.emoji_variants`
    of about ``emoji_rate`` of the rows, each with its row's label and weight; ``variants``
    gives them ready-made).

    Variants add examples, not words: the vocabularies and IDF come from ``texts`` alone (a
    word of one row and its variant would otherwise pass ``min_df=2``), and the calibration
    folds keep every variant with its row, so no row is calibrated on its own copy.
    """
    if variants is None:
        variants = emoji_variants(texts, emoji_rate, seed)
    from .pipeline import build_pipeline

    pipeline = build_pipeline(C=C, calibration=calibration, word_ngrams=word_ngrams,
                              char_ngrams=char_ngrams, random_state=seed)
    rows = [row for row, _ in variants]
    y = [*labels, *(labels[row] for row in rows)]
    params = {}
    if weights is not None:
        params["sample_weight"] = np.asarray([*weights, *(weights[row] for row in rows)],
                                             dtype=float)
    if not variants:
        return pipeline.fit(list(texts), y, **{f"classifier__{k}": v for k, v in params.items()})
    from sklearn.model_selection import StratifiedGroupKFold

    features = pipeline[:-1].fit(list(texts), list(labels))
    x = features.transform([*texts, *(text for _, text in variants)])
    owners = np.concatenate([np.arange(len(texts)), rows])
    calibrator = pipeline[-1]
    folds = calibrator.cv
    calibrator.set_params(cv=list(StratifiedGroupKFold(folds).split(x, y, owners)))
    calibrator.fit(x, y, **params)
    calibrator.set_params(cv=folds)  # the fitted model keeps no index arrays
    return pipeline


def _fold(texts, labels, weights, variants, train, test, C, seed, calibration, ngrams=None):
    """Predictions and probabilities (columns in sorted label order) on the ``test`` rows,
    and predictions with an emoji appended, of a pipeline fitted on the ``train`` rows and the
    variants of those rows only (``ngrams``: :func:`fit_pipeline`'s n-gram range keywords)."""
    local = {row: k for k, row in enumerate(train.tolist())}  # corpus row -> fold row
    fitted = fit_pipeline(
        [texts[i] for i in train], [labels[i] for i in train], C=C, seed=seed,
        weights=[weights[i] for i in train] if weights is not None else None,
        variants=[(local[row], text) for row, text in variants if row in local],
        calibration=calibration, **(ngrams or {}))
    held_out = [texts[i] for i in test]
    proba = fitted.predict_proba(held_out)
    pred = fitted.classes_[proba.argmax(axis=1)]
    columns = np.zeros((len(test), len(_SORTED_LABELS)))
    columns[:, [_SORTED_LABELS.index(c) for c in fitted.classes_]] = proba
    return test, pred, columns, fitted.predict(with_emoji(held_out))


def cross_validate(texts: Sequence[str], labels: Sequence[str], *, C: float = DEFAULT_C,
                   folds: int = 5, groups: Sequence[str] | None = None,
                   langs: Sequence[str] | None = None, seed: int = 0,
                   scheme: str | None = None, jobs: int | None = None,
                   weights: Sequence[float] | None = None, emoji_rate: float = 0.0,
                   calibration: str = DEFAULT_CALIBRATION,
                   word_ngrams: tuple[int, int] = WORD_NGRAMS,
                   char_ngrams: tuple[int, int] = CHAR_NGRAMS) -> dict:
    """Out-of-fold figures of :func:`fit_pipeline` with ``C``, ``calibration`` and the n-gram
    ranges: macro-F1, accuracy, log loss and Brier score of the probabilities, per class, per
    language for groups of at least ``MIN_LANG_ROWS`` rows, and the same held-out rows with an
    emoji appended (``emoji_appended``: macro-F1 and the share of predictions that change;
    :func:`~commentqa.augment.with_emoji`).

    With ``groups`` the folds hold out whole groups (``GroupKFold``: a post's comments, a
    labeler's batch), else they are stratified by label and shuffled with ``seed``. With
    ``weights`` each training fold is fitted with them (``sample_weight``); the figures count
    every held-out row once. Emoji variants (``emoji_rate``) join a training fold only with
    their own row, so no held-out comment is seen in another guise.
    """
    from joblib import Parallel, delayed
    from sklearn.metrics import brier_score_loss, log_loss

    splitter, default_scheme = _folds(folds, groups, seed)
    texts, labels = list(texts), list(labels)
    weights = list(weights) if weights else None
    variants = emoji_variants(texts, emoji_rate, seed)
    splits = _split(splitter, texts, labels, list(groups) if groups else None)
    pred = np.empty(len(labels), dtype=object)
    pred_emoji = np.empty(len(labels), dtype=object)
    proba = np.zeros((len(labels), len(_SORTED_LABELS)))
    for test, plain, columns, decorated in Parallel(n_jobs=jobs)(
            delayed(_fold)(texts, labels, weights, variants, train, test, C, seed, calibration,
                           {"word_ngrams": word_ngrams, "char_ngrams": char_ngrams})
            for train, test in splits):
        pred[test], proba[test], pred_emoji[test] = plain, columns, decorated
    report = classification_report(labels, list(pred))
    per_lang = {}
    if langs:
        by_lang = collections.defaultdict(list)
        for i, lang in enumerate(langs):
            by_lang[lang].append(i)
        for lang, idx in sorted(by_lang.items(), key=lambda kv: -len(kv[1])):
            if len(idx) >= MIN_LANG_ROWS:
                yt, yp = np.asarray(labels)[idx], pred[idx]
                per_lang[lang] = {"n": len(idx), "macro_f1": round(_present_f1(yt, yp), 4),
                                  "accuracy": round(float((yt == yp).mean()), 4)}
    return {"folds": folds, "scheme": scheme or default_scheme,
            "macro_f1": report["macro_f1"], "accuracy": report["accuracy"],
            # proper scores of the probabilities: how well calibrated and sharp they are
            "log_loss": round(float(log_loss(labels, proba, labels=_SORTED_LABELS)), 4),
            "brier": round(float(brier_score_loss(labels, proba, labels=_SORTED_LABELS)), 4),
            "per_class": report["per_class"], "confusion": report["confusion"],
            "per_language": per_lang,
            "emoji_appended": {
                "macro_f1": round(macro_f1(labels, list(pred_emoji)), 4),
                "changed": round(float((pred != pred_emoji).mean()), 4)},
            "emoji_variants": {"rate": emoji_rate, "rows": len(variants)}}


def _present_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the labels present in ``gold`` (a language may lack spam, say)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, average="macro", labels=sorted(set(gold))))


@dataclass
class TrainingResult:
    """Where the model was saved, its C and every candidate's cross-validated figures."""

    path: Path
    C: float
    candidates: list[dict]
    cross_validation: dict | None


def parse_ngram_range(text: str) -> tuple[int, int]:
    """``"2-5"`` -> ``(2, 5)`` (``"3"`` -> ``(3, 3)``); ValueError unless 1 <= low <= high."""
    low, dash, high = text.partition("-")
    try:
        if dash and not high:
            raise ValueError
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"expected LOW-HIGH such as 2-5, got {text!r}") from None
    if not 1 <= lo <= hi:
        raise ValueError(f"expected 1 <= LOW <= HIGH, got {text!r}")
    return lo, hi


def format_ngram_range(ngrams: Sequence[int]) -> str:
    """``(2, 5)`` -> ``"2-5"``, as :func:`parse_ngram_range` reads it."""
    return f"{ngrams[0]}-{ngrams[1]}"


def check_ngram_ranges(word_ngrams: Sequence[int], char_ngrams: Sequence[int]
                       ) -> dict[str, tuple[int, int]]:
    """The two ranges as :func:`fit_pipeline` keywords; InputError for a range the
    pipeline or its fast prediction path cannot take."""
    ranges = {"word_ngrams": (int(word_ngrams[0]), int(word_ngrams[1])),
              "char_ngrams": (int(char_ngrams[0]), int(char_ngrams[1]))}
    for key, (lo, hi) in ranges.items():
        if not 1 <= lo <= hi:
            raise InputError(f"{key} {lo}-{hi}: expected 1 <= LOW <= HIGH")
    if ranges["word_ngrams"][1] > MAX_WORD_NGRAM:
        raise InputError(f"word n-gram range {format_ngram_range(ranges['word_ngrams'])}: the "
                         f"fast prediction path reads word n-grams of up to {MAX_WORD_NGRAM} "
                         "words")
    return ranges


def train_model(data: TrainingData, out_dir: str | os.PathLike, *, name: str, version: str,
                C: Sequence[float] = (DEFAULT_C,), folds: int = 5, seed: int = 0,
                jobs: int | None = None, command: str | None = None,
                emoji_rate: float = 0.0, calibration: str = DEFAULT_CALIBRATION,
                word_ngrams: tuple[int, int] = WORD_NGRAMS,
                char_ngrams: tuple[int, int] = CHAR_NGRAMS,
                log: Callable[[str], None] | None = None) -> TrainingResult:
    """Cross-validate every ``C``, fit the pipeline with the best one on all of ``data``,
    and save it as ``out_dir/<name>-v<version>/`` with its metadata and model card.

    ``emoji_rate`` gives that share of the rows an emoji variant in every fit
    (:func:`fit_pipeline`); ``calibration`` is one of :data:`CALIBRATIONS`; ``word_ngrams``
    and ``char_ngrams`` are the n-gram ranges of the two TF-IDF blocks. ``folds`` 0
    skips cross-validation (only one ``C`` may then be given). The folder is written under a
    temporary name and renamed into place at the end, so a failed run leaves nothing, and an
    existing version is never overwritten.
    """
    log = log or (lambda _: None)
    check_name(name, version)
    if folds == 1 or folds < 0:
        raise InputError(f"--folds {folds}: use 0 (no cross-validation) or at least 2")
    if not C or any(not (math.isfinite(c) and c > 0) for c in C):
        raise InputError(f"C must be positive and finite, got {list(C)}")
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"the seed must be between 0 and {MAX_SEED}, got {seed}")
    if not 0.0 <= emoji_rate <= 1.0:
        raise InputError(f"the share of rows given an emoji variant must be between 0 and 1, "
                         f"got {emoji_rate:g}")
    if calibration not in CALIBRATIONS:
        raise InputError(f"calibration {calibration!r}: use one of {', '.join(CALIBRATIONS)}")
    if folds == 0 and len(C) > 1:
        raise InputError("choosing among several C needs cross-validation (--folds 2 or more)")
    ngrams = check_ngram_ranges(word_ngrams, char_ngrams)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder; --out names the folder "
                         "that receives the model")
    target = out_dir / f"{name}-v{version}"
    if target.exists():
        raise InputError(f"{target} exists; model versions are never overwritten, choose "
                         "another --version")
    data.check(folds)
    counts = collections.Counter(data.gold)
    few = [label for label in LABELS if counts[label] < folds]
    if few and not data.groups:
        log(f"  note: {', '.join(f'{label!r} has {counts[label]} rows' for label in few)}, "
            f"fewer than the {folds} folds: some folds test none of it")
    repeated, conflicts = data.repeats()
    if repeated:
        log(f"  note: {repeated} of the rows repeat{'s' if repeated == 1 else ''} the text of "
            "an earlier row")
    if conflicts:
        (a_src, a_line), (b_src, b_line) = conflicts[0]
        log(f"  warning: {len(conflicts)} of the texts {'is' if len(conflicts) == 1 else 'are'} "
            f"labeled differently on different rows (first: {a_src} line {a_line} and "
            f"{b_src} line {b_line})")

    if jobs is None:
        jobs = max(1, min(folds, os.cpu_count() or 1))
    # One BLAS thread: the solver's dense steps are small, and threads only contend
    # (a fit on a few hundred rows took 2.5x as long with two).
    with threadpool_limits(limits=1):
        candidates, best = [], None
        for c in dict.fromkeys(float(c) for c in C) if folds else ():
            log(f"cross-validating C={c:g} ({folds} folds over {len(data.gold)} rows)")
            cv = cross_validate(data.texts, data.gold, C=c, folds=folds,
                                groups=data.groups or None, langs=data.langs, seed=seed,
                                jobs=jobs, weights=data.weights or None,
                                emoji_rate=emoji_rate, calibration=calibration, **ngrams)
            candidates.append({"C": c, "macro_f1": cv["macro_f1"], "accuracy": cv["accuracy"]})
            log(f"  C={c:g}: macro-F1 {cv['macro_f1']:.4f}, accuracy {cv['accuracy']:.4f}")
            if best is None or cv["macro_f1"] > best[1]["macro_f1"]:
                best = (c, cv)
        chosen, cv = best if best else (float(C[0]), None)
        log(f"fitting C={chosen:g} on all {len(data.gold)} rows")
        variants = emoji_variants(data.texts, emoji_rate, seed)
        pipeline = fit_pipeline(data.texts, data.gold, C=chosen, seed=seed,
                                weights=data.weights or None, variants=variants,
                                calibration=calibration, **ngrams)
    data_meta = {
        "files": [Path(s).name for s in data.sources],
        "sha256": data.digest,
        "rows": len(data.gold),
        "rows_skipped": len(data.skipped),
        "labels": {label: data.gold.count(label) for label in LABELS},
        "languages": dict(collections.Counter(data.langs).most_common())
        if set(data.langs) - {"und"} else {},
        "groups": len(set(data.groups)) if data.groups else None,
        "weights": ({"sum": round(float(sum(data.weights)), 6),
                     "min": min(data.weights), "max": max(data.weights)}
                    if data.weights else None),
        "repeated_texts": repeated,
        "conflicting_texts": len(conflicts),
        "emoji_variants": len(variants),
    }
    staging = None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-v{version}.", dir=out_dir))
        saved = save_model(pipeline, staging, name=name, version=version, extra_meta={
            "training_data": data_meta, "cross_validation": cv,
            "params": {"C": chosen, "seed": seed, "C_candidates": candidates,
                       "emoji_rate": emoji_rate, "calibration": calibration,
                       **{k: list(v) for k, v in ngrams.items()}},
            "trained_with": command,
        })
        write_model_card(saved)
        load_model(saved)  # what was written loads, hash and all
        os.rename(saved, target)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write the model there "
                         f"({exc.strerror or exc})") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return TrainingResult(path=target, C=chosen, candidates=candidates, cross_validation=cv)
