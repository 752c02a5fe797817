"""Where the loader reads a workspace from: the disk, or a Git revision (`git_source.GitTreeFiles`).

Paths stay absolute paths under the workspace root in both cases, so that everything built from a
loaded workspace looks the same whichever source it came from. Either source reads regular files of at most
`MAX_FILE_BYTES` only; that a file stays inside the workspace is the loader's check (`loader.inside`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .._fs import read_regular
from .yamlio import display_path

# Every file the loader reads (dss-iac.yaml, project files, recipe code) is at most this large.
MAX_FILE_BYTES = 4 << 20


def decode(data: bytes) -> str:
    """UTF-8 text with universal newlines, as `Path.read_text` gives it (UnicodeDecodeError otherwise)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


class FileSource(Protocol):
    def read_text(self, path: Path) -> str:
        """The file's UTF-8 text; OSError (FileNotFoundError when missing, `RefusedFile` when not a regular file
        or larger than MAX_FILE_BYTES) or UnicodeDecodeError otherwise."""

    def glob(self, root: Path, pattern: str) -> list[Path]:
        """The files (anything but folders) under `root` matching `pattern`, as `Path.glob` matches them."""

    def resolve(self, path: Path) -> Path:
        """`path` made absolute and free of `..`, with symbolic links followed where the source has them."""

    def name(self, path: Path, root: Path) -> str:
        """The file's name, the same whatever the source: relative to `root` when inside it."""

    def shown(self, path: Path, root: Path) -> str:
        """The file as error messages name it."""


class DiskFiles:
    def read_text(self, path: Path) -> str:
        return decode(read_regular(path, MAX_FILE_BYTES))

    def glob(self, root: Path, pattern: str) -> list[Path]:
        # Named pipes and devices are listed too, so that reading them is refused aloud, not skipped.
        return [p for p in root.glob(pattern) if not p.is_dir()]

    def resolve(self, path: Path) -> Path:
        return path.resolve()

    def name(self, path: Path, root: Path) -> str:
        return display_path(path, root)

    shown = name


DISK = DiskFiles()
