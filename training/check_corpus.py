"""Validate the training corpus and report its make-up and near-duplicate rate.

Usage: python training/check_corpus.py [FILES...] [--threshold 0.9] [--show 20]

With no files, checks every ``training/data/*.jsonl``. Exits non-zero when a row is
invalid or an exact duplicate (after normalisation) is found.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

LABELS = ("reaction", "question", "conversation", "spam")
PLATFORMS = ("instagram", "tiktok", "youtube", "facebook", "reddit")
NICHES = (
    "beauty", "fashion", "fitness", "food", "tech", "travel", "gaming", "parenting",
    "pets", "home", "finance", "music", "comedy", "sports", "cars", "education",
    "lifestyle", "health", "telecom", "art", "books", "news",
)
# ISO 639-1 codes; "hi-Latn" is Hindi/Hinglish written in Latin script, "und" is no
# language at all (emoji-only, bare @mention).
LANGS = (
    "en", "es", "pt", "ms", "id", "hi-Latn", "hi", "fr", "de", "it", "tl", "ar", "ja",
    "ko", "zh", "ru", "th", "vi", "tr", "nl", "pl", "sw", "bn", "ta", "und",
)
MIN_NEAR_DUP_CHARS = 15  # shorter texts are only checked for exact duplicates

_HANDLE = re.compile(r"@[\w.]+")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"(\W)\1+")


def normalise(text: str) -> str:
    """Fold case, handles, digits and whitespace so trivial variants compare equal."""
    text = _HANDLE.sub("@u", text.lower())
    text = _DIGITS.sub("0", text)
    text = _REPEAT.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()


def read_rows(paths: list[Path]) -> tuple[list[dict], list[str]]:
    rows, errors = [], []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path}:{n}"
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: invalid JSON ({exc.msg})")
                continue
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{where}: 'text' must be a non-empty string")
            if row.get("label") not in LABELS:
                errors.append(f"{where}: 'label' {row.get('label')!r} not in {LABELS}")
            if row.get("platform") not in PLATFORMS:
                errors.append(f"{where}: 'platform' {row.get('platform')!r} unknown")
            if row.get("niche") not in NICHES:
                errors.append(f"{where}: 'niche' {row.get('niche')!r} unknown")
            if row.get("lang") not in LANGS:
                errors.append(f"{where}: 'lang' {row.get('lang')!r} unknown")
            row["_where"] = where
            rows.append(row)
    return rows, errors


def near_duplicates(texts: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs of indices whose character 3-5-gram TF-IDF cosine is >= threshold."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    idx = [i for i, t in enumerate(texts) if len(t) >= MIN_NEAR_DUP_CHARS]
    if len(idx) < 2:
        return []
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1)
    x = vec.fit_transform([texts[i] for i in idx])
    sim = (x @ x.T).tocoo()
    pairs = []
    for a, b, s in zip(sim.row, sim.col, sim.data):
        if a < b and s >= threshold:
            pairs.append((idx[a], idx[b], float(s)))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--show", type=int, default=20, help="near-duplicate pairs to print")
    args = parser.parse_args(argv)
    files = args.files or sorted(Path(__file__).parent.joinpath("data").glob("*.jsonl"))
    rows, errors = read_rows(files)
    for err in errors[:50]:
        print("ERROR", err)

    norm = [normalise(r.get("text") or "") for r in rows]
    seen: dict[str, str] = {}
    exact = []
    for row, key in zip(rows, norm):
        if key in seen:
            exact.append(f"{row['_where']} repeats {seen[key]}: {row.get('text')!r}")
        else:
            seen[key] = row["_where"]
    for e in exact[:50]:
        print("DUPLICATE", e)

    pairs = near_duplicates(norm, args.threshold)
    involved = {i for p in pairs for i in p[:2]}
    for a, b, s in sorted(pairs, key=lambda p: -p[2])[: args.show]:
        print(f"NEAR {s:.2f} {rows[a]['_where']} {rows[a]['text']!r} ~ {rows[b]['text']!r}")

    n = len(rows)
    print(f"\nrows: {n}")
    for field in ("label", "lang", "platform", "niche"):
        counts = collections.Counter(r.get(field) for r in rows)
        print(f"{field}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print(f"exact duplicates (normalised): {len(exact)}")
    rate = len(involved) / n if n else 0.0
    print(f"near-duplicates (cosine >= {args.threshold}): {len(pairs)} pairs, "
          f"{len(involved)} rows ({rate:.2%})")
    return 1 if errors or exact else 0


if __name__ == "__main__":
    sys.exit(main())
