"""Atomic file and directory writes: a reader sees the old file or the new one, never half of one.

Every writer here builds the new content under a temporary name in the *same directory* (so the
final rename never crosses a file system), flushes it to disk with ``fsync``, then renames it into
place with ``os.replace``, which POSIX and Windows both perform atomically. A crash or a Ctrl-C
before the rename leaves the old file untouched and no half-written artifact behind (invariant 7,
docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from justenough.display_numbers import json_ready

__all__ = ["write_text", "write_bytes", "write_json", "write_csv", "atomic_dir", "publish_mode"]


# mkstemp/mkdtemp create private (0600/0700) entries; artifacts get the usual permissions instead.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def publish_mode(path: str | Path, directory: bool = False) -> None:
    """Give a temp file (0o666) or directory (0o777) the permissions the umask allows."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_UMASK)


def _fsync_dir(directory: Path) -> None:
    """Persist a rename: the directory entry itself must reach the disk (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems (e.g. certain network mounts) refuse to fsync a directory
        pass
    finally:
        os.close(fd)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        publish_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode(encoding))


def write_json(path: str | Path, obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON (UTF-8, keys in insertion order) atomically.

    NaN and Infinity are not JSON (browsers and jq reject them), so non-finite floats are written
    as ``null``; anything else that JSON cannot hold raises ``TypeError``.
    """
    text = json.dumps(json_ready(obj), indent=indent, ensure_ascii=False, allow_nan=False)
    return write_text(path, text + "\n")


def write_csv(path: str | Path, df: pd.DataFrame) -> Path:
    """Write ``df`` as CSV without the index, atomically."""
    return write_text(path, df.to_csv(index=False))


def _fsync_tree(root: Path) -> None:
    """Flush every file under ``root`` to disk before the directory is renamed into place."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory under a temporary name, then rename it to ``path`` (replacing any old one).

    Usage::

        with atomic_dir(run / "model") as tmp:
            (tmp / "model.json").write_text(...)

    On an exception inside the block the temporary directory is removed and ``path`` is untouched.
    Replacing an existing directory takes two renames (old -> trash, new -> path); a crash between
    them leaves ``path`` missing but the complete old copy in a ``.NAME.old-*`` sibling.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        publish_mode(tmp, directory=True)
        if path.exists() or path.is_symlink():
            if path.is_dir() and not path.is_symlink():
                trash = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
                os.rmdir(trash)  # we only wanted a unique free name
                os.replace(path, trash)
                os.replace(tmp, path)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.unlink(path)
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(path.parent)
