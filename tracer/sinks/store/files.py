"""Opening the store's files safely: traces hold request data, and the path may be a trap.

The app writing the store may run as a user who did not prepare its path, so
before SQLite opens anything the writer checks, and refuses with
:class:`UnsafeStore`:

- the directory holding the file must be owned by this process's user and
  not writable by group or others. This is what makes SQLite's later opens by
  name safe: nobody else can add, swap or remove an entry in it (a planted
  ``-wal``, a symlink put in after the checks);
- directories the store creates are made 0700 and entered without following
  a symlink, so one swapped in after ``mkdir`` is refused;
- the database and its ``-wal``, ``-shm`` and ``-journal`` companions, where
  they exist, must be regular files (a symlink is never followed), owned by
  this user, not writable by group or others, with no other hard link;
- a new database is created here with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and
  mode 0600, then ``fchmod`` 0600: the umask can only take bits away, and
  the process umask is never changed (other threads of the app may be
  creating files). SQLite gives the ``-wal`` and ``-shm`` files it creates
  the database's mode exactly, whatever the umask.

An existing database keeps the mode its owner gave it (``0640`` to share it
with a group is fine; writable by others is not).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
#: Where the checks can be made race-free: symlink-refusing opens relative to a directory fd.
#: Elsewhere (Windows) there is no owner and mode model to check; the file is only created.
_CHECKED = bool(_NOFOLLOW and _DIRECTORY and hasattr(os, "geteuid")) and (
    os.mkdir in os.supports_dir_fd and os.stat in os.supports_dir_fd
)
#: Files SQLite keeps next to the database.
COMPANIONS = ("-wal", "-shm", "-journal")


class UnsafeStore(Exception):
    """The store's path is not safe to write to; ``str(error)`` says why, in a few words."""


def prepare_for_writing(path: Path) -> None:
    """Make ``path`` ready for SQLite: create what is missing privately, check what exists.

    Raises :class:`UnsafeStore` for a path that must not be used, ``OSError``
    for one that cannot be (no such directory, no space, no permission).
    """
    if not _CHECKED:
        _create_unchecked(path)
        return
    dir_fd = _open_directory(path.parent)
    try:
        _check(os.fstat(dir_fd), f"its directory {path.parent}", directory=True)
        for suffix in COMPANIONS:  # first: a refused store creates nothing
            try:
                found = os.stat(path.name + suffix, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # SQLite creates it with the database's mode
            _check(found, f"its {suffix} file")
        _create_or_check(path.name, dir_fd)
    finally:
        os.close(dir_fd)


def _open_directory(directory: Path) -> int:
    """A descriptor on ``directory``, creating it and missing parents 0700.

    A directory that was there before may be reached through a symlink (a
    relocated cache is a user's choice; its target is checked). One this
    function creates is entered with ``O_NOFOLLOW``.
    """
    missing: list[str] = []
    current = directory
    while not os.path.lexists(current) and current != current.parent:
        missing.append(current.name)
        current = current.parent
    fd = os.open(current, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for name in reversed(missing):
            try:
                os.mkdir(name, 0o700, dir_fd=fd)
                created = True
            except FileExistsError:
                created = False  # another worker made it first
            try:
                child = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except OSError as exc:  # ELOOP or, with O_DIRECTORY, ENOTDIR for a symlink
                if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise UnsafeStore(f"the directory {name!r} it created is a symlink") from exc
                raise
            os.close(fd)
            fd = child
            if created:
                os.fchmod(fd, 0o700)  # the umask may have taken the owner's bits away
    except BaseException:
        os.close(fd)
        raise
    return fd


def _create_or_check(name: str, dir_fd: int) -> None:
    """Create the database 0600, or check the one that is there (a symlink counts as there)."""
    try:
        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd
        )
    except FileExistsError:
        _check(os.stat(name, dir_fd=dir_fd, follow_symlinks=False), "the file")
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _check(found: os.stat_result, what: str, *, directory: bool = False) -> None:
    """Refuse what another user could have planted, or can still change."""
    mode = found.st_mode
    if stat.S_ISLNK(mode):
        raise UnsafeStore(f"{what} is a symbolic link")
    if not (stat.S_ISDIR(mode) if directory else stat.S_ISREG(mode)):
        raise UnsafeStore(f"{what} is not a {'directory' if directory else 'regular file'}")
    uid = os.geteuid()
    if found.st_uid != uid:
        raise UnsafeStore(f"{what} is owned by uid {found.st_uid}, not by this process (uid {uid})")
    if mode & 0o022:
        who = "group and others" if mode & 0o022 == 0o022 else "group" if mode & 0o020 else "others"
        raise UnsafeStore(f"{what} is writable by {who} (mode {stat.S_IMODE(mode):04o})")
    if not directory and found.st_nlink > 1:
        raise UnsafeStore(f"{what} has {found.st_nlink - 1} other hard link(s)")


def _create_unchecked(path: Path) -> None:
    """Where nothing can be checked: create the directories and an owner-only file, as we can."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
