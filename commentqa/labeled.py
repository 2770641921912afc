"""Reading labeled comments (JSONL or CSV) for evaluation and training, every skipped row
accounted for."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .io import InputError, read_records
from .labels import LABELS

__all__ = ["LabeledComments", "read_labeled"]


@dataclass
class LabeledComments:
    """The usable rows of a labeled file, and ``(line, reason)`` of every row skipped.

    ``groups`` and ``langs`` hold each usable row's value of the group and language fields
    when :func:`read_labeled` was asked for them (``None`` where a row has no value), else
    they are empty; so does ``weights`` for the weight field (1.0 where a row has none).
    ``lines`` holds each usable row's line number.
    """

    source: str
    texts: list[str] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    groups: list[str | None] = field(default_factory=list)
    langs: list[str | None] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.gold) + len(self.skipped)


def _value(data: dict, name: str) -> str | None:
    """The field as a string; None when the row has no value there (absent, null, blank)."""
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value)


def _weight(data: dict, name: str) -> float | str:
    """The row's weight, 1.0 when it has none, or the reason it is unusable."""
    if _value(data, name) is None:
        return 1.0
    value = data[name]
    try:
        weight = float(value)
    except (TypeError, ValueError):
        weight = math.nan
    if isinstance(value, bool) or not (0 < weight < math.inf):
        return f"weight {str(value)[:40]!r} in field {name!r} is not a positive number"
    return weight


def read_labeled(path: str | os.PathLike, text_field: str = "text",
                 label_field: str = "label", *, group_field: str | None = None,
                 lang_field: str | None = None,
                 weight_field: str | None = None) -> LabeledComments:
    """Texts and gold labels of a JSONL or CSV file (``.gz`` too).

    A label is read case- and space-insensitively (``" Question"`` is ``question``). A row is
    skipped, with its line and reason, when its text is unusable (as ``commentqa classify``
    rejects it) or its label is missing or not one of :data:`~commentqa.LABELS` (``unclear``
    rows, say). ``group_field`` and ``lang_field`` name optional fields read as strings into
    ``groups`` and ``langs``; ``weight_field`` one read as a positive number into ``weights``
    (a row whose weight is not one is skipped). Raises :class:`~commentqa.io.InputError`
    when the file cannot be read or no row is usable.
    """
    path = Path(path)
    out = LabeledComments(str(path))
    for rec in read_records(path, text_field):
        if rec.error is not None:
            out.skipped.append((rec.line, rec.error))
            continue
        value = rec.data.get(label_field) if rec.data else None
        label = value.strip().lower() if isinstance(value, str) else None
        weight = _weight(rec.data, weight_field) if weight_field else 1.0
        if label in LABELS and isinstance(weight, str):
            out.skipped.append((rec.line, weight))
        elif label in LABELS:
            out.texts.append(rec.data[text_field])
            out.gold.append(label)
            out.lines.append(rec.line)
            if group_field is not None:
                out.groups.append(_value(rec.data, group_field))
            if lang_field is not None:
                out.langs.append(_value(rec.data, lang_field))
            if weight_field is not None:
                out.weights.append(weight)
        elif value is None or value == "":
            out.skipped.append((rec.line, f"no label in field {label_field!r}"))
        else:
            out.skipped.append((rec.line, f"label {str(value)[:40]!r} is not one of "
                                          f"{', '.join(LABELS)}"))
    if not out.gold:
        first = f" (line {out.skipped[0][0]}: {out.skipped[0][1]})" if out.skipped else ""
        raise InputError(f"{path}: no row with a text and a label among "
                         f"{', '.join(LABELS)}{first}; choose fields with --text-field and "
                         "--label-field")
    return out
