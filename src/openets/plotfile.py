"""Where a user asked for a PNG: the one check every `--plot` option makes before drawing."""

from __future__ import annotations

from pathlib import Path

from openets.errors import InputError


def png_path(path: str | Path, option: str = "--plot") -> Path:
    """`path` as a Path if it names a .png file in an existing folder; otherwise an error saying which."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        msg = f"{option} {str(path)!r}: give a file name ending in .png"
        raise InputError(msg)
    if not target.parent.exists():
        msg = f"{option} {str(path)!r}: folder {str(target.parent)!r} does not exist; create it or choose another path"
        raise InputError(msg)
    return target
