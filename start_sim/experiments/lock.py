"""One run per output folder: a lock file ``OUT.lock`` beside OUT, held for the whole run.

The file is created atomically (``O_CREAT | O_EXCL``) and names the holder's process id
and host. While the run lives it also holds an advisory ``flock`` on the file, so a
holder that died (killed, crashed, machine restarted) is recognised even if its process
id was reused; a lock whose holder is gone is stale: it is reported and taken over."""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from start_sim.core.errors import RunError

try:
    import fcntl
except ImportError:  # Windows: the process id alone says whether the holder lives
    fcntl = None

STARTING_SECONDS = 30.0
"""A lock file still empty after this long was left by a run that died while creating it."""


class LockBusy(RunError):
    """Another run holds the lock of this output folder."""


def lock_path(out: Path) -> Path:
    """Where the run into ``out`` keeps its lock: ``OUT.lock`` beside it."""
    return out.with_name(out.name + ".lock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _try_flock(fd: int) -> bool | None:
    """Take the advisory lock without waiting: True taken, False held elsewhere, None unsupported."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        return None
    return True


class RunLock:
    """The lock of one output folder; use as a context manager (released on exit, Ctrl-C included).

    ``say`` receives the note printed when a stale lock is taken over."""

    def __init__(self, out: str | Path, command: str, say: Callable[[str], None] = lambda _: None):
        self.path = lock_path(Path(out))
        self.out = Path(out)
        self.command = command
        self.say = say
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _info(self) -> bytes:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                           "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode()

    def acquire(self) -> None:
        """Create the lock, or take over a stale one; raise :class:`LockBusy` if a live run holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            fd = self._take_over()
        else:
            _try_flock(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, self._info(), 0)
        os.fsync(fd)
        self._fd = fd

    def _take_over(self) -> int:
        """The open, locked descriptor of a stale lock file (rewritten by :meth:`acquire`)."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:  # its holder just finished: start afresh
            return os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            free = _try_flock(fd)
            raw = os.read(fd, 4096)
            try:
                holder = json.loads(raw)
                pid, host = int(holder["pid"]), str(holder["host"])
            except (ValueError, KeyError, TypeError):
                holder, pid, host = None, 0, ""
            same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            if holder is None:
                age = time.time() - os.fstat(fd).st_mtime
                stale = free is not False and age > STARTING_SECONDS and same_file
                if not stale:
                    raise LockBusy(f"another start-sim run is starting to write to {self.out} (lock file "
                                   f"{self.path}); wait for it, or give another --out")
                self.say(f"note: {self.path} was left empty by a run that stopped while starting; taking it over")
                return fd
            here = host == socket.gethostname()
            gone = (free is True and here) or (free is None and here and not _alive(pid))
            if not (gone and same_file):
                started = f", started {holder.get('started')}" if holder.get("started") else ""
                raise LockBusy(
                    f"another start-sim run ({holder.get('command', 'a command')}, process {pid} on {host}{started}) "
                    f"is writing to {self.out}; two runs into one folder would mix their results, so this one "
                    f"stops. Wait for it to finish or give another --out. If no such run is going on "
                    f"(e.g. that machine restarted), delete {self.path} and try again")
            self.say(f"note: {self.path} was left by process {pid} on {host}, which is no longer running (killed "
                     f"or crashed); taking it over")
            return fd
        except BaseException:
            os.close(fd)
            raise

    def release(self) -> None:
        """Remove the lock file (only if it is still this run's) and let go of it."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                self.path.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)
