"""The store trusts no path: a planted symlink or a file others can write is refused, not used.

A refused store drops its traces (counted), says why once on the
``trace_request`` logger, and never touches the file it was pointed at; the
app's requests are not affected.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import tracer
from tests.store.conftest import make_trace, warnings_from
from tracer.sinks.store import StoreError, TraceStore

Opener = Callable[..., TraceStore]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _assert_refused(store: TraceStore, caplog: pytest.LogCaptureFixture, reason: str) -> None:
    """One trace added, none written, one warning naming the store and ``reason``."""
    store.add(make_trace(1))
    assert store.flush()
    assert (store.written, store.dropped) == (0, 1)
    (record,) = warnings_from(caplog)
    message = record.getMessage()
    assert f"refusing to write traces to the store {store.path}" in message
    assert reason in message and "unaffected" in message and "\n" not in message
    store.add(make_trace(2))  # from now on dropped at once, without the writer
    assert store.dropped == 2
    assert store.flush() and store.written == 0 and len(warnings_from(caplog)) == 1


def _companions(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name + "-")]


def test_a_symlink_at_the_path_is_not_followed(
    db_path: Path, tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "elsewhere").mkdir()
    target = tmp_path / "elsewhere" / "target.db"
    db_path.symlink_to(target)
    _assert_refused(open_store(), caplog, "the file is a symbolic link")
    assert list((tmp_path / "elsewhere").iterdir()) == [], "nothing created at the target"
    assert _companions(db_path) == []


def test_a_symlink_to_an_empty_file_leaves_the_file_alone(
    db_path: Path, tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"")
    notes.chmod(0o600)
    db_path.symlink_to(notes)
    _assert_refused(open_store(), caplog, "the file is a symbolic link")
    assert notes.read_bytes() == b"" and _mode(notes) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "traces.db"]


def test_a_file_others_can_write_is_refused(
    db_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    db_path.chmod(0o666)
    _assert_refused(open_store(), caplog, "the file is writable by group and others (mode 0666)")
    assert db_path.read_bytes() == b"" and _mode(db_path) == 0o666
    assert _companions(db_path) == [], "no -wal or -shm made next to it"


@pytest.mark.parametrize(
    ("mode", "who"), [(0o777, "group and others"), (0o1777, "group and others"), (0o770, "group")]
)
def test_a_directory_others_can_write_is_refused(
    tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture, mode: int, who: str
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)  # /tmp-like (sticky or not), or a group's directory
    _assert_refused(open_store(shared / "traces.db"), caplog, f"is writable by {who}")
    assert list(shared.iterdir()) == []


def test_umask_zero_still_makes_everything_private(tmp_path: Path, open_store: Opener) -> None:
    """The file is 0600 and SQLite copies its mode onto -wal and -shm; directories are 0700."""
    path = tmp_path / "new" / "dir" / "traces.db"
    previous = os.umask(0)
    try:
        store = open_store(path)
        store.add(make_trace(1))
        assert store.flush() and store.written == 1
        # the writer's connection is open: the -wal and -shm files exist now
        found = {p.name: _mode(p) for p in path.parent.iterdir()}
        assert found == {"traces.db": 0o600, "traces.db-wal": 0o600, "traces.db-shm": 0o600}
        assert (_mode(tmp_path / "new"), _mode(tmp_path / "new" / "dir")) == (0o700, 0o700)
        assert store.count() == 1
    finally:
        os.umask(previous)


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_companion_file_others_can_write_is_refused(
    db_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    """A leftover (non-empty) -wal or -shm would be used as it is by SQLite, with its mode."""
    companion = db_path.with_name(db_path.name + suffix)
    companion.write_bytes(b"\0" * 4096)
    companion.chmod(0o666)
    _assert_refused(open_store(), caplog, f"its {suffix} file is writable by group and others")
    assert not db_path.exists()


def test_a_symlinked_wal_is_refused(
    db_path: Path, tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.with_name("traces.db-wal").symlink_to(tmp_path / "elsewhere-wal")
    _assert_refused(open_store(), caplog, "its -wal file is a symbolic link")


def test_a_hard_link_is_refused(
    db_path: Path, tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    other = tmp_path / "other.txt"
    other.write_bytes(b"")
    other.chmod(0o600)
    os.link(other, db_path)
    _assert_refused(open_store(), caplog, "the file has 1 other hard link(s)")
    assert other.read_bytes() == b""


def test_something_other_than_a_file_is_refused(
    db_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.mkdir(mode=0o700)
    _assert_refused(open_store(), caplog, "the file is not a regular file")


@as_root
def test_a_file_of_another_user_is_refused(
    db_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.write_bytes(b"")
    db_path.chmod(0o600)
    os.chown(db_path, 12345, 12345)
    _assert_refused(open_store(), caplog, "the file is owned by uid 12345, not by this process")


@as_root
def test_a_directory_of_another_user_is_refused(
    tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 12345, 12345)
    _assert_refused(open_store(theirs / "traces.db"), caplog, "is owned by uid 12345")
    assert list(theirs.iterdir()) == []


@pytest.fixture
def symlink_wins_the_mkdir_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Someone puts a symlink where the store is about to create its directory."""
    trap = tmp_path / "trap"
    trap.mkdir()

    def mkdir(path: str | Path, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        os.symlink(trap, path, dir_fd=dir_fd)
        raise FileExistsError(path)

    monkeypatch.setattr(os, "mkdir", mkdir)
    return trap


def test_a_directory_it_creates_is_not_entered_through_a_symlink(
    tmp_path: Path,
    open_store: Opener,
    caplog: pytest.LogCaptureFixture,
    symlink_wins_the_mkdir_race: Path,
) -> None:
    store = open_store(tmp_path / "cache" / "traces.db")
    _assert_refused(store, caplog, "the directory 'cache' it created is a symlink")
    assert list(symlink_wins_the_mkdir_race.iterdir()) == []


def test_readers_do_not_follow_a_symlink(db_path: Path, tmp_path: Path, open_store: Opener) -> None:
    store = open_store()
    store.add(make_trace(1))
    store.close()
    link = tmp_path / "link.db"
    link.symlink_to(db_path)
    with pytest.raises(StoreError, match="it is a symbolic link") as err:
        TraceStore(link).list()
    assert "\n" not in str(err.value)


def test_a_refused_store_does_not_affect_the_app(
    db_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    db_path.symlink_to(tmp_path / "target.db")
    store = TraceStore(db_path, flush_interval=0.01)
    app = tracer.instrument(Starlette(routes=[Route("/", hello)]), store=store)
    try:
        with TestClient(app) as client:
            responses = [client.get("/") for _ in range(3)]
        assert [(r.status_code, r.text) for r in responses] == [(200, "hello")] * 3
        # three requests, and the app's startup and shutdown (lifespan traces)
        assert store.flush() and (store.written, store.dropped) == (0, 5)
        assert len(warnings_from(caplog)) == 1
        assert not (tmp_path / "target.db").exists()
    finally:
        store.close()
