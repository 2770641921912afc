"""Add the compiled prediction arrays (``model.npz``) to model folders saved without them.

    python training/compile_model.py models/commentqa-multi-v1.2.0 [DIR ...]

Each folder's pipeline is loaded the usual way (its SHA-256 checked against ``meta.json``
first), compiled (:mod:`commentqa.compiled`), checked to predict what the pipeline predicts
(to 1e-9) on every fifth training comment and the fixtures' comments, and written beside
``model.joblib``; ``meta.json`` then records the file and its SHA-256.
Models saved by :func:`commentqa.save_model` get the file when they are written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from commentqa.compiled import load_compiled
from commentqa.model import CommentModel
from commentqa.persistence import META_FILE, compile_model_file, load_model

ROOT = Path(__file__).resolve().parent.parent


def _check_texts() -> list[str]:
    """Every 5th training comment, the fixtures' comments and a few odd ones."""
    texts = ["", "🔥🔥🔥", "check my page @x.y https://x.co", "soooo prettyyy 😍😍", "a\tb\nc"]
    for path in [*sorted((ROOT / "training" / "data").glob("*.jsonl")),
                 *sorted((ROOT / "fixtures").glob("*.jsonl"))]:
        lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        texts += [str(json.loads(line).get("text", "")) for line in lines[::5]]
    return texts


def compile_folder(folder: Path) -> dict[str, str]:
    model = load_model(folder)
    meta_path = folder / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    fields = compile_model_file(model.pipeline, folder)
    if not fields:
        raise SystemExit(f"{folder}: its pipeline is not one commentqa.compiled mirrors")
    compiled = CommentModel.from_compiled(load_compiled(folder / fields["compiled_file"]),
                                          meta, lambda: model.pipeline)
    texts = _check_texts()
    reference = model.pipeline.predict_proba(texts)[:, model._order]
    if not np.allclose(compiled.predict_proba(texts), reference, rtol=0, atol=1e-9):
        (folder / fields["compiled_file"]).unlink()
        raise SystemExit(f"{folder}: compiled predictions differ from the pipeline's")
    meta.update(fields)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for folder in args.folders:
        fields = compile_folder(folder)
        size = (folder / fields["compiled_file"]).stat().st_size / 1e6
        print(f"{folder}: {fields['compiled_file']} {size:.1f} MB, "
              f"sha256 {fields['compiled_sha256'][:16]}...", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
