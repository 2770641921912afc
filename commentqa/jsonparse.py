"""JSON parsing for the readers: the json module's answers, at orjson's speed, no traceback.

:func:`loads` parses one document the way :func:`json.loads` does, but a document nested too
deeply for the parser is a :class:`ValueError` like any other bad JSON, not a
``RecursionError``. :func:`parse_lines` parses JSONL lines with orjson (when installed) and
falls back on the json module wherever the two could disagree, so results and rejection
reasons do not depend on which parser ran:

- orjson refuses what json accepts (``NaN``, a number that overflows a double, a lone
  surrogate escape): such a line is parsed again by json;
- orjson silently turns an integer beyond 64 bits into a float, where json keeps it exact:
  lines holding a run of 19 or more digits go to json directly.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json alone is just slower
    orjson = None

__all__ = ["BadLine", "loads", "parse_lines"]

#: Reason given for a document nested deeper than the parser's recursion limit.
TOO_DEEP = "nested too deeply to parse"
#: 2**63 has 19 digits: a run this long may be an integer orjson would round. Digits are
#: found by mapping them all to b"0" (bytes.translate), which is ten times a regex's speed.
_LONG_RUN = b"0" * 19
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))


def _long_digits(data: bytes) -> bool:
    return data.translate(_DIGITS_ONLY).find(_LONG_RUN) >= 0


class BadLine(NamedTuple):
    """A JSONL line that is not one JSON value, and why (a sentence for the rejects file)."""

    reason: str


def loads(data: str | bytes) -> Any:
    """:func:`json.loads`, raising ``ValueError`` for documents nested too deeply."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def _parse_exactly(line: bytes) -> Any:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(f"invalid UTF-8 at byte {exc.start}")
    try:
        return loads(text)
    except ValueError as exc:
        return BadLine(f"invalid JSON: {exc}")


def parse_lines(lines: list[bytes]) -> list[Any]:
    """The value of each line, or a :class:`BadLine` where it is not valid UTF-8 JSON."""
    fast = orjson.loads if orjson is not None else None
    long_digits = _long_digits(b"\n".join(lines))
    out: list[Any] = []
    append = out.append
    for line in lines:
        if fast is not None and not (long_digits and _long_digits(line)):
            try:
                append(fast(line))
                continue
            except ValueError:  # orjson.JSONDecodeError; json has the final word
                pass
        append(_parse_exactly(line))
    return out
