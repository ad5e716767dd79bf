"""Moving handled files to their output folders and writing reason files."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

from sentinel.files._errors import FileOperationError, FilesError

REASON_SUFFIX = ".reason.txt"
# Most file systems limit one name to 255 bytes (NAME_MAX on Linux).
NAME_MAX = 255


def move_unique(source: Path, target: Path, key: str = "") -> Path:
    """Move ``source`` to ``target``, adding `` (n)`` to the name on a clash.

    Raises :class:`FileOperationError` naming the folder, the OS error and
    the config key ``key`` of the folder when the move fails.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        candidate = target
        number = 1
        while os.path.lexists(candidate):
            candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
            number += 1
        shutil.move(str(source), str(candidate))
    except OSError as exc:
        raise _operation_error("move the file into", target.parent, exc, key) from None
    return candidate


def reason_path(destination: Path) -> Path:
    """Return the reason file's path for a file moved to ``destination``.

    A name that would exceed the file system's limit is shortened and keeps
    a hash of the full name, so it still identifies the file.
    """
    name = destination.name + REASON_SUFFIX
    if len(os.fsencode(name)) <= NAME_MAX:
        return destination.with_name(name)
    digest = hashlib.sha256(os.fsencode(destination.name)).hexdigest()[:10]
    tail = f"~{digest}{destination.suffix}{REASON_SUFFIX}"
    room = NAME_MAX - len(os.fsencode(tail))
    stem = os.fsencode(destination.stem)[:room].decode("utf-8", "ignore")
    return destination.with_name(stem + tail)


def fail_file(path: Path, destination: Path, reason: str, key: str = "") -> Path:
    """Move ``path`` to ``destination`` in a failed folder and write the reason.

    The reason file starts with the file's full name, because a long name is
    shortened in the reason file's own name. Raises
    :class:`FileOperationError` when the move or the write fails.
    """
    moved = move_unique(path, destination, key)
    sidecar = reason_path(moved)
    text = f"File: {moved.name}\n{reason.rstrip()}\n"
    try:
        sidecar.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _operation_error(
            "write the reason file into", sidecar.parent, exc, key
        ) from None
    return moved


def describe_error(exc: FilesError) -> str:
    """Write a rejected file's error as plain sentences for a ``.reason.txt``."""
    if exc.format:
        name = exc.format.upper()
        # Letters whose spoken name starts with a vowel take "an": an XML file.
        article = "an" if name[0] in "AEFHILMNORSX" else "a"
        first = f"The file was rejected as {article} {name} file."
    else:
        first = "The file was rejected because its format is not supported."
    lines = [first, f"Error code: {exc.code}.", f"Reason: {exc.message}"]
    where = exc.where()
    if where:
        lines.append(f"Location: {where}.")
    if exc.hint:
        lines.append(f"What to do: {exc.hint}")
    return "\n".join(lines)


def _operation_error(
    action: str, folder: Path, exc: OSError, key: str
) -> FileOperationError:
    reason = exc.strerror or str(exc)
    setting = f" ({key})" if key else ""
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and not folder.is_dir():
        reason = "Not a directory: a file is in the way of the folder"
        hint = (
            f"Move the file away, or point{setting or ' the route'} at another folder."
        )
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = (
            f"Make {str(folder)!r} writable by the user that runs sentinel, "
            f"or point{setting or ' the route'} at a writable folder."
        )
    elif exc.errno == errno.ENOSPC:
        hint = f"Free disk space on the file system of {str(folder)!r}."
    else:
        hint = f"Check the folder {str(folder)!r}{setting}."
    return FileOperationError(
        f"cannot {action} the folder {str(folder)!r}{setting}: {reason} "
        f"(errno {exc.errno})",
        code="file-operation",
        hint=hint,
    )
