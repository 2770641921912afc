"""Reading the labeled training corpus (``training/data/*.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path

from commentqa.persistence import files_sha256

DATA_DIR = Path(__file__).resolve().parent / "data"


def corpus_files(data_dir: Path = DATA_DIR, names: list[str] | None = None) -> list[Path]:
    """The ``*.jsonl`` files of ``data_dir``, or only those ``names`` (in sorted order)."""
    files = sorted(Path(data_dir).glob("*.jsonl"))
    if names:
        wanted = set(names)
        missing = sorted(wanted - {f.name for f in files})
        if missing:
            raise SystemExit(f"not in {data_dir}: {', '.join(missing)}")
        files = [f for f in files if f.name in wanted]
    if not files:
        raise SystemExit(f"no *.jsonl files in {data_dir}")
    return files


def read_corpus(files: list[Path]) -> list[dict]:
    """All rows of ``files``; a malformed line stops with its file and line number."""
    rows = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: invalid JSON ({exc.msg})") from None
            if not isinstance(row.get("text"), str) or "label" not in row:
                raise SystemExit(f"{path}:{n}: needs a string 'text' and a 'label'")
            rows.append(row)
    return rows


def read_corpus_by_file(files: list[Path]) -> tuple[list[dict], list[str]]:
    """All rows of ``files`` and, for each row, the name of its file (its CV group)."""
    rows: list[dict] = []
    groups: list[str] = []
    for path in files:
        part = read_corpus([path])
        rows += part
        groups += [path.name] * len(part)
    return rows, groups


def corpus_sha256(files: list[Path]) -> str:
    """One digest over the files' names and bytes, in sorted order."""
    return files_sha256(sorted(files))


def load_dev(corpus: Path, labels: tuple[str, ...]) -> list[dict]:
    """Dev-labeled real comments (``dev_labels.jsonl`` joined by ``id`` with
    ``real_comments.jsonl``), each with its gold label under ``gold``. Read only."""
    gold: dict[str, str] = {}
    for line in (corpus / "dev_labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[row["id"]] = row["label"]
    rows = []
    with open(corpus / "real_comments.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                if gold.get(row["id"]) in labels:
                    rows.append({**row, "gold": gold[row["id"]]})
    return rows
