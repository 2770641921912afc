"""The output folder of a batch run, written atomically.

Every file is written under a temporary name in the output folder and renamed into place
by :meth:`OutputFolder.commit`, ``summary.json`` last; :meth:`OutputFolder.abort` deletes
the temporary files. An interrupted run therefore leaves the previous outputs (or none),
never a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .io import FILE_MODE, InputError

__all__ = ["OUTPUT_FORMATS", "ROW_GROUP_ROWS", "OutputFolder", "TableWriter",
           "use_system_memory_pool"]

OUTPUT_FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")


_ARROW_TYPES = {"string": "string", "bool": "bool_", "float64": "float64", "int64": "int64"}
#: Parquet rows gathered before they are written as one row group. With each 10,000-row chunk
#: of a batch run as a group of its own, 1,000,000 scored comments made a 28.2 MB file of 100
#: groups that pandas read in 0.92 s; gathered, 25.7 MB in 15 groups read in 0.28 s (5M: 147.5
#: -> 133.9 MB, 1.74 -> 1.18 s). The rows wait as Arrow tables, about 74 bytes a comment:
#: the run's peak memory rose 3-4 MB. The footer, kept in memory until the file is closed,
#: holds a seventh as many row groups.
ROW_GROUP_ROWS = 65_536


class TableWriter:
    """Appends pandas frames with fixed columns to one Parquet, CSV or JSONL file.

    ``types`` (column -> ``string``, ``bool``, ``float64`` or ``int64``) fixes the Parquet
    schema up front, so a first chunk whose column is all empty cannot decide it.
    ``dictionary`` names the Parquet columns worth dictionary encoding (few distinct values,
    such as post ids and labels); the others are written plain: trying a dictionary on
    distinct ids or probabilities and falling back costs time and makes the file larger.
    Parquet rows are gathered into row groups of at least ``row_group_rows`` rows (the last
    may be smaller), whatever the size of the frames written.
    """

    def __init__(self, path: Path, fmt: str, types: dict[str, str] | None = None,
                 dictionary: tuple[str, ...] = (), row_group_rows: int = ROW_GROUP_ROWS):
        self.path, self.fmt, self.types, self.dictionary = path, fmt, types, dictionary
        self.row_group_rows = row_group_rows
        self.rows = 0
        self._fh: IO[Any] | None = None
        self._parquet: Any = None
        self._waiting: list[Any] = []  # Arrow tables of the row group being gathered
        self._waiting_rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "parquet":
            self._write_parquet(frame)
        else:
            if self._fh is None:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            if self.fmt == "csv":
                frame.to_csv(self._fh, header=self.rows == 0, index=False, lineterminator="\n")
            elif len(frame):
                text = frame.to_json(orient="records", lines=True, force_ascii=False,
                                     double_precision=6)
                self._fh.write(text if text.endswith("\n") else text + "\n")
        self.rows += len(frame)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = None
        if self.types:
            schema = pa.schema([(c, getattr(pa, _ARROW_TYPES[t])()) for c, t in self.types.items()])
        # One thread: a pool per call costs more than it saves on a chunk's columns.
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False, nthreads=1)
        if schema is None:  # text columns as ``string`` always (an empty one reads as null)
            fields = [f.with_type(pa.string()) if pa.types.is_null(f.type)
                      or pa.types.is_large_string(f.type) else f for f in table.schema]
            table = table.cast(pa.schema(fields, metadata=table.schema.metadata))
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(
                self.path, table.schema, compression="zstd",
                use_dictionary=[c for c in self.dictionary if c in table.schema.names])
        self._waiting.append(table)
        self._waiting_rows += len(table)
        if self._waiting_rows >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        """Write the gathered rows as one row group (one per 1,048,576 rows, pyarrow's cap)."""
        if self._waiting:
            import pyarrow as pa

            waiting, self._waiting, self._waiting_rows = self._waiting, [], 0
            self._parquet.write_table(pa.concat_tables(waiting))  # no copy: chunks are kept

    def close(self) -> None:
        """Finish the file; with no row written it still gets the header or schema."""
        if self.rows == 0 and self.types and self._fh is None and self._parquet is None:
            self.write(pd.DataFrame({c: pd.Series(dtype=object if t in ("string", "bool") else t)
                                     for c, t in self.types.items()}))
        self._flush()
        self.release()
        if not self.path.exists():
            self.path.touch()

    def release(self) -> None:
        """Close the file as it stands (an aborted run's; :class:`OutputFolder` removes it).
        Rows not yet written as a row group are dropped: call :meth:`close` to keep them."""
        self._waiting, self._waiting_rows = [], 0
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def use_system_memory_pool() -> None:
    """Make pyarrow's calls in this process (and forked children) allocate from the system's
    allocator.

    Its default pool (mimalloc or jemalloc, as built) keeps freed pages for reuse; in a batch
    run that writes Parquet chunk after chunk, the system allocator, whose heap
    :mod:`commentqa.heap` keeps in check, left the peak 10-20 MB lower at no cost in speed.
    Arrow's C++ side picks its own default when pyarrow is imported: the ``commentqa``
    executable sets ``ARROW_DEFAULT_MEMORY_POOL=system`` before that
    (:mod:`commentqa.console`) to move it too.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


class OutputFolder:
    """Temporary files in ``folder`` that become the run's outputs on :meth:`commit`."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: exists and is not a folder")
        self._created = not self.folder.exists()  # removed again if the run fails
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".commentqa-", dir=self.folder)
        except OSError as exc:
            raise InputError(f"{self.folder}: cannot write there ({exc.strerror})") from None
        os.close(fd)
        os.unlink(probe)
        self._pending: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        """A temporary path that :meth:`commit` will rename to ``folder/name``."""
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; outputs are ordinary files
        os.close(fd)
        self._pending[name] = Path(tmp)
        return Path(tmp)

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        with open(self.path(name), "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")

    def commit(self) -> dict[str, str]:
        """Rename every pending file into place (``summary.json`` last)."""
        names = sorted(self._pending, key=lambda n: n == "summary.json")
        done = {}
        for name in names:
            final = self.folder / name
            os.replace(self._pending.pop(name), final)
            done[name] = str(final)
        return done

    def abort(self) -> None:
        """Delete the temporary files, and the folder when this run made it (and it is
        empty): a failed run leaves things as they were."""
        for tmp in self._pending.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._pending.clear()
        if self._created:
            with contextlib.suppress(OSError):
                self.folder.rmdir()
