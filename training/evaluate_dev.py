"""Measure a model on the real development comments in ``../shared/corpus``.

    python training/evaluate_dev.py [--model models/NAME-vX] [--corpus ../shared/corpus]
                                    [--record]

Prints per-class precision/recall/F1, macro-F1, a confusion matrix, accuracy per source and
platform, and how much an appended emoji moves the model: dev macro-F1 with one of
``commentqa.augment.PROBE_EMOJI`` appended to every comment, and the share of predictions it
changes on the dev comments and on all real comments (no labels needed for that). The corpus is
read only and never trained on. ``--record`` stores
the figures in the model's ``meta.json`` (``dev_evaluation``) and rewrites its card.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_dev as read_dev
from model_card import write_model_card

from commentqa import LABELS, load_model
from commentqa.augment import with_emoji
from commentqa.evaluation import classification_report
from commentqa.persistence import default_model_path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
EXPOSED = Path(__file__).resolve().parent / "dev_exposed_ids.txt"


def exposed_ids() -> set[str]:
    """Dev ids whose text was read during error analysis (see the file's header)."""
    lines = EXPOSED.read_text(encoding="utf-8").splitlines() if EXPOSED.is_file() else []
    return {x.strip() for x in lines if x.strip() and not x.startswith("#")}


def load_dev(corpus: Path) -> list[dict]:
    """Dev-labeled comments joined with their text, source and platform."""
    return read_dev(corpus, LABELS)


def evaluate(model, rows: list[dict]) -> dict:
    gold = [r["gold"] for r in rows]
    pred = model.predict([r["text"] for r in rows])
    groups = {}
    for key in ("source", "platform"):
        by = collections.defaultdict(list)
        for g, p, r in zip(gold, pred, rows):
            name = r[key].split(":")[0] if key == "source" else r[key]
            by[name].append(g == p)
        groups[key] = {k: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)}
                       for k, v in sorted(by.items())}
    return {
        "n": len(rows),
        "macro_f1": round(float(f1_score(gold, pred, average="macro", labels=list(LABELS),
                                           zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "per_class": classification_report(gold, pred)["per_class"],
        "confusion": confusion_matrix(gold, pred, labels=list(LABELS)).tolist(),
        **{f"per_{k}": v for k, v in groups.items()},
    }


def emoji_robustness(model, rows: list[dict], corpus: Path) -> dict:
    """Dev macro-F1 with an emoji appended to each comment, and the share of predictions the
    emoji changes on the dev comments and on every comment of ``real_comments.jsonl``."""
    texts = [r["text"] for r in rows]
    plain, decorated = model.predict(texts), model.predict(with_emoji(texts))
    with open(corpus / "real_comments.jsonl", encoding="utf-8") as fh:
        real = [json.loads(line)["text"] for line in fh if line.strip()]
    real_changed = sum(a != b for a, b in zip(model.predict(real),
                                              model.predict(with_emoji(real))))
    return {"macro_f1": round(float(f1_score([r["gold"] for r in rows], decorated,
                                             average="macro", labels=list(LABELS),
                                             zero_division=0)), 4),
            "changed": round(sum(a != b for a, b in zip(plain, decorated)) / len(rows), 4),
            "real_n": len(real), "real_changed": round(real_changed / len(real), 4)}


def report(result: dict) -> str:
    lines = [f"dev comments: {result['n']}",
             f"macro-F1 {result['macro_f1']:.4f}  accuracy {result['accuracy']:.4f}", "",
             f"{'label':<14}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}"]
    for label, m in result["per_class"].items():
        lines.append(f"{label:<14}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}"
                     f"{m['support']:>9}")
    lines += ["", "confusion (rows gold, columns predicted): " + " ".join(LABELS)]
    lines += [f"  {label:<14}{row}" for label, row in zip(LABELS, result["confusion"])]
    for key in ("per_source", "per_platform"):
        lines += ["", f"accuracy {key.replace('_', ' ')}:"]
        lines += [f"  {k:<64}{v['accuracy']:.3f}  (n={v['n']})" for k, v in result[key].items()]
    emoji = result.get("emoji_appended")
    if emoji:
        lines += ["", f"with an emoji appended: macro-F1 {emoji['macro_f1']:.4f}, "
                  f"{emoji['changed']:.1%} of dev predictions change, "
                  f"{emoji['real_changed']:.1%} of all {emoji['real_n']:,} real comments"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    if not (args.corpus / "dev_labels.jsonl").is_file():
        print(f"no dev set at {args.corpus}: nothing to measure")
        return 0
    model = load_model(args.model)
    rows = load_dev(args.corpus)
    result = evaluate(model, rows)
    result["emoji_appended"] = emoji_robustness(model, rows, args.corpus)
    print(f"model {model.name}")
    print(report(result))
    exposed = exposed_ids()
    unexposed = evaluate(model, [r for r in rows if r["id"] not in exposed])
    # The exposed comments include every error printed in past error analysis, so the rest
    # are comments some model got right: a regression check, not an estimate.
    wrong = unexposed["n"] - sum(row[i] for i, row in enumerate(unexposed["confusion"]))
    print(f"\nunread dev comments (all but the {len(rows) - unexposed['n']} in {EXPOSED.name}): "
          f"{wrong} of {unexposed['n']} wrong; the subset is biased toward comments some "
          "model got right, so this only shows regressions")
    if args.record:
        folder = args.model or default_model_path()
        meta_path = Path(folder) / "meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["dev_evaluation"] = {k: result[k] for k in ("n", "macro_f1", "accuracy", "per_class",
                                                         "emoji_appended")}
        meta["dev_evaluation"]["unexposed"] = {"n": unexposed["n"], "wrong": wrong,
                                               "accuracy": unexposed["accuracy"]}
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        write_model_card(Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
