"""Where the parts of an export go: a file (written beside its final path and renamed there
once the summary has arrived, so a broken export leaves nothing behind), or an Arrow table
(``chatdb-client[arrow]``)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from chatdb_client.frames import optional_module
from chatdb_client.results import ExportPart

FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "json_lines", ".ndjson": "json_lines", ".arrow": "arrow",
                    ".arrows": "arrow", ".parquet": "parquet"}
"""The export format a file name asks for when none is given."""


def format_for(path: str | os.PathLike[str], format: str | int | None) -> str | int:
    """``format``, or the one ``path``'s suffix names; ValueError when neither says."""
    if format is not None:
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        raise ValueError(f"name the format: {suffix or 'no suffix'} is none of {', '.join(FORMAT_BY_SUFFIX)}")
    return FORMAT_BY_SUFFIX[suffix]


class ExportFile:
    """Writes the chunks of an export to ``path``; :attr:`summary` is the export's last part."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._file: io.BufferedWriter | None = None
        self.summary: ExportPart | None = None

    def __enter__(self) -> ExportFile:
        self._file = self._partial.open("wb")
        return self

    def take(self, part: ExportPart) -> None:
        """Write a chunk; keep the summary."""
        assert self._file is not None, "use ExportFile as a context manager"
        if part.kind == "chunk":
            self._file.write(part.data)
        elif part.kind == "summary":
            self.summary = part

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        assert self._file is not None
        self._file.close()
        if error is None and self.summary is None:
            error = ConnectionError("the export ended without its summary")
        if error is not None:
            self._partial.unlink(missing_ok=True)
            if kind is None:
                raise error
            return
        self._partial.replace(self.path)


class ArrowCollector:
    """Gathers the chunks of an Arrow IPC export and reads them as one table."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()

    def take(self, part: ExportPart) -> None:
        """Keep a chunk."""
        if part.kind == "chunk":
            self._buffer.write(part.data)

    def table(self) -> Any:
        """The ``pyarrow.Table`` the chunks make."""
        ipc = optional_module("pyarrow.ipc", "arrow")
        return ipc.open_stream(self._buffer.getvalue()).read_all()
