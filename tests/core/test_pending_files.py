"""The filesystem pending-flow store: its own folder and format, atomic create and claim, GC."""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from flask_google_flow.ext.errors import SessionUnavailable
from flask_google_flow.ext.pending import FilePendingFlowStore


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> FilePendingFlowStore:
    return FilePendingFlowStore(tmp_path / "pending", clock=clock)


def test_folder_and_files_are_private_and_in_the_own_format(
    store: FilePendingFlowStore, tmp_path: Path
) -> None:
    folder = tmp_path / "pending"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    store.put("abc123", '{"v":"é"}', 60)
    assert sorted(p.name for p in folder.iterdir()) == ["abc123.flow"]  # no temp file left
    record = folder / "abc123.flow"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    value = '{"v":"é"}'.encode()
    assert record.read_bytes() == b"gf-pending 2 1700000060 %d\n" % len(value) + value


def test_a_record_of_format_1_is_still_read(store: FilePendingFlowStore, tmp_path: Path) -> None:
    (tmp_path / "pending" / "k.flow").write_bytes(b"gf-pending 1 1700000060\nold value")
    assert store.get("k") == "old value"
    assert store.pop("k") == "old value"
    assert not (tmp_path / "pending" / "k.flow").exists()


def test_a_record_still_being_written_counts_as_absent_and_is_not_claimed(
    store: FilePendingFlowStore, tmp_path: Path
) -> None:
    record = tmp_path / "pending" / "k.flow"
    record.write_bytes(b"gf-pending 2 1700000060 11\npartial")  # 7 of 11 bytes so far
    assert store.get("k") is None
    assert store.pop("k") is None
    assert record.exists()  # left for its writer
    with record.open("ab") as file:
        file.write(b" end")  # the writer finishes
    assert store.pop("k") == "partial end"


@pytest.mark.parametrize(
    "content", [b"", b"gf-pend", b"gf-pending 2 ", b"gf-pending 2 1700000060", b"gf-pending 2 17 1"]
)
def test_a_record_whose_header_is_being_written_is_left_for_its_writer(
    store: FilePendingFlowStore, tmp_path: Path, content: bytes
) -> None:
    """Between the create and the write the file is empty: a claim must not remove it."""
    record = tmp_path / "pending" / "k.flow"
    record.write_bytes(content)
    assert store.pop("k") is None
    assert store.get("k") is None
    assert record.read_bytes() == content


def test_a_new_record_is_created_in_place_without_a_temporary_file(
    store: FilePendingFlowStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[tuple[str, str]] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: renames.append((a, b)) or real_replace(a, b))
    store.put("new", "value", 60)
    assert renames == []
    store.put("new", "second", 60)  # an existing name is replaced atomically
    assert len(renames) == 1 and renames[0][1].endswith("new.flow")
    assert store.pop("new") == "second"


def test_claim_takes_the_name_away_and_is_single_use(store: FilePendingFlowStore, tmp_path) -> None:
    store.put("k", "value", 60)
    assert store.pop("k") == "value"
    names = [p.name for p in (tmp_path / "pending").iterdir()]
    assert len(names) == 1 and names[0].startswith(".spare-")  # kept for the next record
    assert store.pop("k") is None
    assert store.get("k") is None


def _spares(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".spare-"))


def test_the_next_record_is_written_over_a_claimed_ones_file(
    store: FilePendingFlowStore, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "pending"
    store.put("first", "a value of some length", 60)
    assert store.pop("first") == "a value of some length"
    (spare,) = _spares(folder)
    inode, size = spare.stat().st_ino, spare.stat().st_size
    creates: list[str] = []
    real_open = os.open

    def recording_open(path, flags, *args):
        if flags & os.O_CREAT:
            creates.append(path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", recording_open)
    store.put("second", "shorter", 30)
    monkeypatch.undo()
    assert creates == []  # no new file
    record = folder / "second.flow"
    assert record.stat().st_ino == inode and _spares(folder) == []
    # The same size: the expiry is padded with zeros; the record reads as usual.
    data = record.read_bytes()
    assert len(data) == size
    expires_at, rest = data.removeprefix(b"gf-pending 2 ").split(b" ", 1)
    assert expires_at.startswith(b"0") and int(expires_at) == 1_700_000_030
    assert rest == b"7\nshorter"
    assert store.get("second") == "shorter"
    clock.now += 30
    assert store.get("second") is None  # the padded expiry is the expiry


def test_a_record_longer_than_the_spare_grows_it(store: FilePendingFlowStore, tmp_path) -> None:
    store.put("a", "v", 60)
    store.pop("a")
    store.put("b", "a value much longer than the first one", 60)
    assert store.pop("b") == "a value much longer than the first one"
    store.put("c", "v", 60)  # back to short: padded to the grown size
    assert store.pop("c") == "v"


def test_a_spare_removed_meanwhile_means_a_new_file(store: FilePendingFlowStore, tmp_path) -> None:
    folder = tmp_path / "pending"
    store.put("a", "v", 60)
    store.pop("a")
    for spare in _spares(folder):
        spare.unlink()  # another process's garbage collection
    store.put("b", "v", 60)
    assert store.pop("b") == "v"


def test_a_spare_that_is_no_plain_file_is_dropped(store: FilePendingFlowStore, tmp_path) -> None:
    folder = tmp_path / "pending"
    store.put("a", "v", 60)
    store.pop("a")
    (spare,) = _spares(folder)
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep me")
    spare.unlink()
    spare.symlink_to(target)  # swapped for a link: never written through
    store.put("b", "v", 60)
    assert target.read_bytes() == b"keep me"
    assert not spare.is_symlink() and not spare.exists()
    assert store.pop("b") == "v"


def test_spares_are_capped_and_large_files_are_removed(
    store: FilePendingFlowStore, tmp_path: Path
) -> None:
    folder = tmp_path / "pending"
    for i in range(20):
        store.put(f"k{i}", "v", 60)
    for i in range(20):
        assert store.pop(f"k{i}") == "v"
    assert len(_spares(folder)) == 16
    store.put("big", "x" * 2000, 60)  # over a spare of a few bytes: it grows past 1 KiB
    assert store.pop("big") == "x" * 2000
    assert len(_spares(folder)) == 15  # that file was removed, not kept


def test_a_failed_write_over_a_spare_raises_and_leaves_nothing(
    store: FilePendingFlowStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "pending"
    store.put("a", "value", 60)
    store.pop("a")

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(SessionUnavailable):
        store.put("b", "a longer value than before", 60)
    monkeypatch.undo()
    assert list(folder.iterdir()) == []  # the half-written spare is removed
    assert store.pop("b") is None


def test_threads_never_share_a_spare(store: FilePendingFlowStore) -> None:
    """Many threads put and claim records of their own: each gets back exactly its value."""
    errors: list[str] = []

    def sign_ins(thread: int) -> None:
        for i in range(300):
            key, value = f"t{thread}-{i}", f"value of thread {thread}, sign-in {i}"
            store.put(key, value, 60)
            got = store.pop(key)
            if got != value:
                errors.append(f"{key}: {got!r}")

    threads = [threading.Thread(target=sign_ins, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def _put_in_forked_child(store: FilePendingFlowStore, results) -> None:
    store.put("child", "from the child", 60)
    results.put(os.stat(os.path.join(store.directory, "child.flow")).st_ino)


def test_a_forked_child_does_not_write_the_parents_spares(
    store: FilePendingFlowStore, tmp_path: Path
) -> None:
    folder = tmp_path / "pending"
    store.put("a", "v", 60)
    store.pop("a")
    (spare,) = _spares(folder)
    inode = spare.stat().st_ino
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_put_in_forked_child, args=(store, results))
    child.start()
    child_inode = results.get(timeout=10)
    child.join(10)
    assert child.exitcode == 0
    assert child_inode != inode and _spares(folder) == [spare]  # the child made its own file
    store.put("parent", "v", 60)  # the parent still uses its spare
    assert (folder / "parent.flow").stat().st_ino == inode
    assert store.pop("child") == "from the child"


def test_expiry_is_inside_the_record(store: FilePendingFlowStore, clock: Clock) -> None:
    store.put("k", "value", 60)
    clock.now += 60
    assert store.pop("k") is None  # expired: refused and removed
    store.put("k2", "value", 60)
    clock.now += 59
    assert store.pop("k2") == "value"


def test_put_replaces_a_record_of_the_same_key(store: FilePendingFlowStore) -> None:
    store.put("k", "one", 60)
    store.put("k", "two", 60)
    assert store.pop("k") == "two"


@pytest.mark.parametrize("key", ["../escape", "a/b", "", "x" * 201, "k.flow", "ké"])
def test_keys_that_are_not_plain_names_are_refused(store: FilePendingFlowStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, "v", 60)
    with pytest.raises(ValueError):
        store.pop(key)


@pytest.mark.parametrize(
    "content",
    [
        b"garbage",
        b"gf-pending 1 \nv",
        b"gf-pending 1 12x\nv",
        b"gf-pending 1 99",
        b"gf-pending 2 1800000000\nv",
        b"gf-pending 2 1800000000 x\nv",
        b"gf-pending 2 1800000000 1\nlonger than said",
        b"\xff",
    ],
)
def test_a_file_that_is_not_a_record_is_no_record(
    store: FilePendingFlowStore, tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "pending" / "k.flow").write_bytes(content)
    assert store.pop("k") is None
    assert not (tmp_path / "pending" / "k.flow").exists()


def test_invalid_utf8_value_is_no_record(store: FilePendingFlowStore, tmp_path: Path) -> None:
    (tmp_path / "pending" / "k.flow").write_bytes(b"gf-pending 2 1800000000 2\n\xff\xfe")
    assert store.pop("k") is None


def test_a_failed_write_raises_and_leaves_nothing(
    store: FilePendingFlowStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(SessionUnavailable) as info:
        store.put("k", "value", 60)
    assert info.value.code == 503
    monkeypatch.undo()
    assert list((tmp_path / "pending").iterdir()) == []
    assert store.pop("k") is None


def test_a_short_write_is_completed(store: FilePendingFlowStore, monkeypatch) -> None:
    real_write = os.write

    def one_byte_at_a_time(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data[:1]))

    monkeypatch.setattr(os, "write", one_byte_at_a_time)
    store.put("k", "a longer value", 60)
    monkeypatch.undo()
    assert store.pop("k") == "a longer value"


def test_a_failed_close_raises(store: FilePendingFlowStore, monkeypatch, tmp_path) -> None:
    # NFS reports some write errors only at close().
    real_close = os.close

    def failing_close(fd: int) -> None:
        real_close(fd)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "close", failing_close)
    with pytest.raises(SessionUnavailable):
        store.put("k", "value", 60)
    monkeypatch.undo()
    assert list((tmp_path / "pending").iterdir()) == []


def test_folder_removed_is_unavailable(store: FilePendingFlowStore, tmp_path: Path) -> None:
    store.put("k", "v", 60)
    for path in (tmp_path / "pending").iterdir():
        path.unlink()
    (tmp_path / "pending").rmdir()
    with pytest.raises(SessionUnavailable):
        store.put("k2", "v", 60)
    assert store.pop("k") is None  # nothing to claim is not an outage
    store.delete("k")


def test_record_that_cannot_be_read_is_unavailable(store, monkeypatch) -> None:
    store.put("k", "v", 60)

    def broken_read(fd: int, size: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "read", broken_read)
    with pytest.raises(SessionUnavailable):
        store.pop("k")
    with pytest.raises(SessionUnavailable):
        store.get("k")
    monkeypatch.undo()
    assert store.pop("k") == "v"  # a failed read claims nothing


def test_a_record_larger_than_one_read_is_read_whole(store: FilePendingFlowStore) -> None:
    value = "x" * 200_000
    store.put("big", value, 60)
    assert store.get("big") == value
    assert store.pop("big") == value


def test_garbage_collection(store: FilePendingFlowStore, tmp_path: Path, clock: Clock) -> None:
    folder = tmp_path / "pending"
    store.put("old", "v", 10)
    store.put("new", "v", 100)
    (folder / "unrelated.txt").write_text("not ours")
    stale_temp = folder / ".tmp-crashed"
    stale_temp.write_bytes(b"half")
    fresh_temp = folder / ".tmp-inflight"
    fresh_temp.write_bytes(b"gf-pending 1 0\n")
    broken = folder / "broken.flow"
    broken.write_bytes(b"not a record")
    hour_ago = clock.now - 3601
    os.utime(stale_temp, (hour_ago, hour_ago))
    os.utime(broken, (hour_ago, hour_ago))
    os.utime(fresh_temp, (clock.now, clock.now))
    clock.now += 11
    assert store.collect_garbage() == 3
    assert sorted(p.name for p in folder.iterdir()) == [
        ".tmp-inflight",
        "new.flow",
        "unrelated.txt",
    ]
    assert store.pop("new") == "v"


def test_garbage_collection_removes_spares_left_for_ten_minutes(
    store: FilePendingFlowStore, tmp_path: Path, clock: Clock
) -> None:
    folder = tmp_path / "pending"
    store.put("a", "v", 60)
    store.pop("a")
    clock.now = time.time() + 590  # its ctime is now: not yet
    assert store.collect_garbage() == 0 and len(_spares(folder)) == 1
    clock.now = time.time() + 601
    assert store.collect_garbage() == 1 and _spares(folder) == []
    store.put("b", "v", 60)  # the forgotten spare is gone: a new file
    assert store.pop("b") == "v"


def test_put_collects_garbage_at_most_once_per_interval(tmp_path: Path, clock: Clock) -> None:
    store = FilePendingFlowStore(tmp_path / "p", clock=clock, gc_interval=3600)
    store.put("a", "v", 1)
    clock.now += 5
    store.put("b", "v", 1)  # within the interval: "a" stays
    assert (tmp_path / "p" / "a.flow").exists()
    store._next_gc = 0  # the interval has passed
    clock.now += 2
    store.put("c", "v", 100)
    assert not (tmp_path / "p" / "a.flow").exists()
    assert not (tmp_path / "p" / "b.flow").exists()


def test_a_reader_never_sees_a_partial_record(tmp_path: Path) -> None:
    """Writers and claimers race on one key: every claimed value is complete."""
    store = FilePendingFlowStore(tmp_path / "p")
    value = "x" * 200_000
    stop = threading.Event()
    seen: list[str | None] = []

    def writer() -> None:
        while not stop.is_set():
            store.put("k", value, 60)

    store.put("k", value, 60)  # the first claim finds a record whatever the scheduler does
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            seen.append(store.pop("k"))
    finally:
        stop.set()
        thread.join()
    assert {v for v in seen if v is not None} == {value}


def _claim_in_process(directory: str, key: str, barrier, results) -> None:
    store = FilePendingFlowStore(directory)
    barrier.wait(10)
    results.put(store.pop(key))


def test_exactly_one_of_several_processes_claims(tmp_path: Path) -> None:
    store = FilePendingFlowStore(tmp_path / "p")
    context = multiprocessing.get_context("fork")
    for round_ in range(3):
        key = f"race-{round_}"
        store.put(key, "the-value", 60)
        barrier = context.Barrier(6)
        results = context.Queue()
        processes = [
            context.Process(
                target=_claim_in_process, args=(str(tmp_path / "p"), key, barrier, results)
            )
            for _ in range(6)
        ]
        for process in processes:
            process.start()
        got = [results.get(timeout=20) for _ in processes]
        for process in processes:
            process.join(10)
        assert got.count("the-value") == 1, got
        assert got.count(None) == 5


def test_folder_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        FilePendingFlowStore(blocker / "pending")


# -- get / add (what Cross-Account Protection keeps) ----------------------------------


def test_get_reads_without_claiming_and_ignores_expired(store, clock):
    assert store.get("k") is None
    store.put("k", "v", 10)
    assert store.get("k") == "v"
    assert store.get("k") == "v"
    clock.now += 10
    assert store.get("k") is None


def test_add_creates_once_and_replaces_only_an_expired_record(store, clock, tmp_path):
    assert store.add("k", "first", 10) is True
    assert store.add("k", "second", 10) is False
    assert store.get("k") == "first"
    clock.now += 10
    assert store.add("k", "third", 10) is True  # the expired record made room
    assert store.get("k") == "third"
    assert [p.name for p in tmp_path.joinpath("pending").iterdir()] == ["k.flow"]


def test_add_raced_by_threads_creates_once(store):
    barrier = threading.Barrier(12)
    results: list[bool] = []

    def add(n: int) -> None:
        barrier.wait(10)
        results.append(store.add("race", f"v{n}", 60))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results.count(True) == 1, results


def test_a_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    """In a shared parent (``/dev/shm``, ``/tmp``) another user could have made the folder."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(OSError, match="writable by other users"):
        FilePendingFlowStore(folder)
    folder.chmod(0o700)
    FilePendingFlowStore(folder)


def test_a_symlink_instead_of_the_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(OSError, match="not a folder"):
        FilePendingFlowStore(tmp_path / "link")


def test_another_users_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(os, "geteuid", lambda: os.lstat(folder).st_uid + 1)
    with pytest.raises(OSError, match="another user"):
        FilePendingFlowStore(folder)


def test_add_leaves_a_record_that_is_being_written(store: FilePendingFlowStore, tmp_path) -> None:
    record = tmp_path / "pending" / "k.flow"
    record.write_bytes(b"gf-pending 2 1700000060 5\nab")  # another writer, 2 of 5 bytes
    assert store.add("k", "mine", 60) is False
    assert record.read_bytes() == b"gf-pending 2 1700000060 5\nab"
