"""Where the loader reads a workspace from: the disk, or a Git revision (`git_source.GitTreeFiles`).

Paths stay absolute paths under the workspace root in both cases, so that everything built from a
loaded workspace looks the same whichever source it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .yamlio import display_path


class FileSource(Protocol):
    def read_text(self, path: Path) -> str:
        """The file's UTF-8 text; OSError (FileNotFoundError when missing) or UnicodeDecodeError otherwise."""

    def glob(self, root: Path, pattern: str) -> list[Path]:
        """The files (not folders) under `root` matching `pattern`, as `Path.glob` matches it."""

    def resolve(self, path: Path) -> Path:
        """`path` made absolute and free of `..`."""

    def name(self, path: Path, root: Path) -> str:
        """The file's name, the same whatever the source: relative to `root` when inside it."""

    def shown(self, path: Path, root: Path) -> str:
        """The file as error messages name it."""


class DiskFiles:
    def read_text(self, path: Path) -> str:
        return path.read_text(encoding="utf-8")

    def glob(self, root: Path, pattern: str) -> list[Path]:
        return [p for p in root.glob(pattern) if p.is_file()]

    def resolve(self, path: Path) -> Path:
        return path.resolve()

    def name(self, path: Path, root: Path) -> str:
        return display_path(path, root)

    shown = name


DISK = DiskFiles()
