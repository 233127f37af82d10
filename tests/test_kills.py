"""What a killed process leaves behind: temporaries of interrupted writes, and worker processes
of a killed build."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fgclip import files
from fgclip.config import TrainConfig
from fgclip.trainer import loop
from trainer.conftest import write_shards, write_tiny_config


def train_config(tmp_path: Path, **overrides) -> TrainConfig:
    shards = tmp_path / "shards"
    if not shards.exists():
        write_shards(shards, shards=1, per_shard=16)
    model = tmp_path / "fgclip-test-tiny.json"
    if not model.exists():
        write_tiny_config(tmp_path)
    values = dict(shards=str(shards), output=str(tmp_path / "run"), model=str(model), batch_size=8, steps=1,
                  lr=1e-3, warmup=1, workers=0, log_every=1, save_every=1, device="cpu", precision="fp32")
    values.update(overrides)
    return TrainConfig(**values)


def pid_of_an_ended_process() -> int:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if files.is_temporary(p.name))


def test_a_resumed_run_removes_the_temporaries_of_a_killed_save_but_not_of_a_live_writer(tmp_path):
    loop.train(train_config(tmp_path), echo=lambda _: None)
    checkpoints = tmp_path / "run" / "checkpoints"
    killed = checkpoints / f".latest.pt.tmp-{pid_of_an_ended_process()}"
    killed.write_bytes(b"most of a checkpoint")
    (tmp_path / "run" / f".summary.json.tmp-{pid_of_an_ended_process()}").write_bytes(b"{")
    live_writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = checkpoints / f".latest.pt.tmp-{live_writer.pid}"
        live.write_bytes(b"being written")
        not_ours = checkpoints / "notes.tmp-1"  # not fgclip's pattern: left alone
        not_ours.write_bytes(b"")
        lines: list[str] = []
        loop.train(train_config(tmp_path, steps=2, resume="latest"), echo=lines.append)
        assert temporaries(checkpoints) == [live.name] and not_ours.exists()
        assert temporaries(tmp_path / "run") == []
        assert any(live.name in line for line in lines)  # said why it stays
    finally:
        live_writer.kill()
        live_writer.wait()


def no_space_when_writing(name: str):
    """An ``os.fsync`` that fails as a full disk does for the temporary of ``name``."""
    fsync = os.fsync

    def fsync_or_full(fd: int) -> None:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(f".{name}.tmp-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fsync(fd)

    return fsync_or_full


def test_a_write_that_fails_removes_its_temporary(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError, match="No space"):
        files.write_atomically(tmp_path / "table.json", b"{}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names an open file through /proc")
def test_a_checkpoint_save_on_a_full_disk_leaves_no_temporary(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", no_space_when_writing("latest.pt"))
    with pytest.raises(OSError) as raised:
        loop.train(train_config(tmp_path), echo=lambda _: None)
    assert raised.value.errno == errno.ENOSPC
    checkpoints = tmp_path / "run" / "checkpoints"
    assert checkpoints.is_dir() and list(checkpoints.iterdir()) == []


# --- a killed build: its worker processes must go with it --------------------------------------

BUILD = """
import sys
from fgclip.config import BuildConfig
from fgclip.pipeline.build import build_negatives
build_negatives(BuildConfig(input=sys.argv[1], output=sys.argv[2], executor=sys.argv[3], workers=2, shard_size=5,
                            no_negatives=True), echo=lambda line: None)
"""


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every process below ``pid``."""
    table = process_table()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _, started) in table.items():
            if ppid == parent and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    """Those of ``processes`` still there (a zombie has ended; the same pid started again is another)."""
    table = process_table()
    return [pid for pid, started in processes.items()
            if pid in table and table[pid][2] == started and table[pid][1] != "Z"]


def command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    return "?"


def kill_a_build_at_work(executor: str, tmp_path: Path, started_within_s: float) -> tuple[dict[int, str], list, float]:
    """Start a build in a process of its own, SIGKILL it once its workers write shards; returns its
    processes below it as they were just before, the command lines of those still running after
    up to 30 s, and the seconds it took them to end."""
    from pipeline.corpus import write_jsonl_corpus

    corpus = write_jsonl_corpus(tmp_path / "corpus", 40)
    output = tmp_path / "shards"
    environment = {**os.environ, "FGCLIP_TEST_SLOW_SAMPLE_S": "0.5"}  # 2.5 s a shard: time to kill it at work
    build = subprocess.Popen([sys.executable, "-c", BUILD, str(corpus), str(output), executor], env=environment,
                             stderr=subprocess.DEVNULL)
    below: dict[int, str] = {}
    try:
        deadline = time.monotonic() + started_within_s
        while not (output.is_dir() and any(files.is_temporary(p.name) for p in output.glob("*.tar*"))):
            assert build.poll() is None, "the build ended before it was killed"
            assert time.monotonic() < deadline, "no shard was being written"
            time.sleep(0.1)
        time.sleep(0.5)  # the second worker too
        below = descendants(build.pid)
        assert build.poll() is None and below
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
        killed_at = time.monotonic()
        while still_running(below) and time.monotonic() - killed_at < 30:
            time.sleep(0.1)
        took = time.monotonic() - killed_at
        left = [command_line(pid) for pid in still_running(below)]
        return below, left, took
    finally:
        build.kill()
        for pid in still_running(below):  # a failed test leaves nothing running either
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_the_local_pool_workers_end_with_a_killed_build(tmp_path):
    below, left, took = kill_a_build_at_work("local", tmp_path, started_within_s=60)
    assert len(below) >= 2  # the two pool workers (and multiprocessing's resource tracker)
    assert left == [] and took < 3, f"still running {took:.0f} s after: {left}"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_the_embedded_ray_processes_end_with_a_killed_build(tmp_path):
    pytest.importorskip("ray")
    below, left, took = kill_a_build_at_work("ray", tmp_path, started_within_s=120)
    assert left == [] and took < 10, f"still running {took:.0f} s after: {left}"
