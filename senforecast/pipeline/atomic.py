"""Writing an output folder so that a failed or interrupted run never loses the earlier one.

A run's files are written into a *staging* folder beside the output folder (same parent, so
on the same file system) and swapped in with a rename once everything is written:

* Ctrl-C, a full disk or a crash while writing leaves the earlier output untouched (the
  staging folder is removed, or removed by the next run if the process was killed);
* the new folder holds exactly this run's files: nothing stale from an earlier run;
* on Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call, so at no moment is the output
  folder missing or half old, half new; elsewhere it is two renames with Ctrl-C held back
  between them.

:func:`check_output_folder` is called *before* any computing: it refuses an output path that
is a file, that cannot be written, or an existing folder holding files senforecast did not
write (replacing the folder would delete them).
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import signal
import stat
import sys
import threading
import uuid
from pathlib import Path
from typing import Iterator

from ..core.errors import SenForecastError

OUTPUT_FILES: frozenset[str] = frozenset({"report.html", "senforecast.xlsx"})
"""Files a run writes at the top of its output folder."""

OUTPUT_FOLDERS: dict[str, tuple[str, ...]] = {"csv": (".csv", ".txt"), "charts": (".png", ".svg", ".pdf")}
"""Sub-folders a run writes, with the file types in them."""

_JUNK = frozenset({".ds_store", "thumbs.db", "desktop.ini"})  # left by file browsers
_STAGE = ".{name}.partial-{pid}-{tag}"
_STAGE_RE = r"^\.{name}\.partial-(\d+)-[0-9a-f]+$"


class OutputError(SenForecastError):
    """The output folder cannot be written, or replacing it would delete files that are not ours.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "results.txt"
    >>> _ = f.write_text("mine")
    >>> try:
    ...     check_output_folder(f)
    ... except OutputError as err:
    ...     print(str(err).split(";")[0].endswith("is a file, not a folder"))
    True
    """


def _describe(exc: OSError) -> str:
    reasons = {errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
               errno.EPERM: "permission denied", errno.ENOSPC: "the disk is full",
               errno.EDQUOT: "the disk quota is used up"}
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def foreign_files(folder: Path, limit: int = 5) -> list[str]:
    """Entries of an existing output folder that a senforecast run did not write.

    Empty for an empty folder or a folder laid out like a run's output (``report.html``,
    ``senforecast.xlsx``, ``csv/*.csv``, ``charts/*.png`` ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "csv").mkdir(); _ = (d / "csv" / "Gap_by_year.csv").write_text("year")
    >>> foreign_files(d)
    []
    >>> _ = (d / "budget.xlsx").write_text("mine")
    >>> foreign_files(d)
    ['budget.xlsx']
    """
    found: list[str] = []
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.lower() in _JUNK:
            continue
        if entry.is_dir() and not entry.is_symlink() and name in OUTPUT_FOLDERS:
            kinds = OUTPUT_FOLDERS[name]
            for sub in sorted(entry.iterdir()):
                ours = sub.is_file() and sub.suffix.lower() in kinds
                if not ours and sub.name.lower() not in _JUNK:
                    found.append(f"{name}/{sub.name}")
        elif not (entry.is_file() and name in OUTPUT_FILES):
            found.append(name + ("/" if entry.is_dir() else ""))
        if len(found) >= limit:
            break
    return found[:limit]


def _absolute(out: str | os.PathLike) -> Path:
    # abspath, not resolve: '..' is collapsed but a symlinked parent is kept as the user wrote it;
    # an output folder that is itself a symlink is replaced where it points, the link kept
    path = Path(os.path.abspath(os.fspath(out)))
    return path.resolve() if path.is_symlink() else path


def _stale_stages(out: Path) -> list[Path]:
    """Staging folders beside ``out`` left by runs that were killed (their process is gone)."""
    pattern = re.compile(_STAGE_RE.format(name=re.escape(out.name)))
    stale = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        m = pattern.match(entry.name)
        if m and entry.is_dir() and not _alive(int(m.group(1))):
            stale.append(entry)
    return stale


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or cannot tell: leave its folder alone
    return True


def check_output_folder(out: str | os.PathLike, *, option: str = "--out") -> Path:
    """Check, before any computing, that ``out`` can receive a run's output.

    Refuses a path that is a file, a folder holding files senforecast did not write, the
    current folder or a parent of it, and a place where nothing can be written (read-only
    file system, no permission). Staging folders of killed runs beside ``out`` are removed.
    Nothing is created: the check writes and removes a probe folder in the nearest existing
    parent.

    Parameters
    ----------
    out : str or Path
        The output folder (it need not exist).
    option : str
        How the user named it, for messages.

    Returns
    -------
    Path
        ``out`` as an absolute path.

    Raises
    ------
    OutputError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_folder(base / "new" / "out") == base / "new" / "out"
    True
    """
    path = _absolute(out)
    shown = os.fspath(out)
    if path.parent == path:
        raise OutputError(f"{option} {shown!r} is the root of the file system; name a folder to write to")
    cwd = Path(os.getcwd())
    if path == cwd or path in cwd.parents:
        raise OutputError(f"{option} {shown!r} is the current folder (or a parent of it); the output "
                          "folder is replaced as a whole, so name a sub-folder such as 'results'")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {shown!r} is a file, not a folder; name a folder for the report, "
                          "workbook, CSVs and charts (it is created)")
    if path.is_dir():
        foreign = foreign_files(path)
        locks = [f for f in foreign if Path(f).name.startswith("~$")]
        if locks:
            raise OutputError(f"{option} {shown!r}: {Path(locks[0]).name[2:]} is open in Excel (its lock file {locks[0]} "
                              "is there); close it and run again")
        if foreign:
            raise OutputError(f"{option} {shown!r} already holds files senforecast did not write "
                              f"({', '.join(foreign)}); a run replaces the whole folder, so name a new "
                              "or empty folder, or move those files out")
    anchor = path.parent
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir():
        raise OutputError(f"{option} {shown!r} cannot be created: {str(anchor)!r} is a file, not a folder")
    probe = anchor / f".senforecast-write-check-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
        (probe / "x").write_bytes(b"x")
    except OSError as exc:
        raise OutputError(f"cannot write the output to {shown!r}: {_describe(exc)} in {str(anchor)!r}; "
                          f"choose another {option} folder") from None
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if path.parent.is_dir():
        for stale in _stale_stages(path):
            shutil.rmtree(stale, ignore_errors=True)
    return path


@contextlib.contextmanager
def _interrupts_held(deliver: bool = True) -> Iterator[None]:
    """Hold Ctrl-C back for a few lines (the swap, the clean-up), then deliver it (or drop it:
    a Ctrl-C during the final swap comes when the work is done)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and deliver:
            raise KeyboardInterrupt


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), os.fspath(b))


def _swap_in(stage: Path, out: Path) -> None:
    """Put ``stage`` at ``out``; an existing ``out`` is replaced as a whole, then deleted."""
    with _interrupts_held(deliver=False):
        if not out.exists():
            os.rename(stage, out)
            return
        try:
            os.chmod(stage, stat.S_IMODE(out.stat().st_mode))  # keep the folder's permissions
        except OSError:
            pass
        if _exchange(stage, out):
            old = stage  # the exchange left the earlier output at the staging path
        else:
            old = stage.with_name(stage.name + "-old")
            os.rename(out, old)
            try:
                os.rename(stage, out)
            except OSError:
                os.rename(old, out)  # put the earlier output back before reporting
                raise
        shutil.rmtree(old, ignore_errors=True)


def _while_writing(exc: OSError, stage: Path) -> str:
    """' (while writing charts/x.svg)' for an error on a file of the staging folder."""
    name = getattr(exc, "filename", None)
    if not name:
        return ""
    try:
        return f" (while writing {Path(os.fspath(name)).relative_to(stage).as_posix()})"
    except ValueError:
        return f" ({os.fspath(name)})"


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike, *, option: str = "--out") -> Iterator[Path]:
    """A staging folder to write a run's files into; swapped in at ``out`` when the block ends.

    If the block raises (or Ctrl-C arrives) the staging folder is deleted and ``out`` is left
    exactly as it was. An existing ``out`` must pass :func:`check_output_folder` (checked
    again just before the swap, in case files were added meanwhile).

    Parameters
    ----------
    out : str or Path
        The output folder.
    option : str
        How the user named it, for messages.

    Yields
    ------
    Path
        The staging folder (beside ``out``).

    Raises
    ------
    OutputError
        When writing fails for lack of space or permission (the earlier output is unchanged).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with staged_folder(out) as stage:
    ...     _ = (stage / "report.html").write_text("first")
    >>> with staged_folder(out) as stage:
    ...     _ = (stage / "senforecast.xlsx").write_text("second")
    >>> sorted(p.name for p in out.iterdir())  # the first run's report is gone: nothing stale
    ['senforecast.xlsx']
    >>> try:
    ...     with staged_folder(out) as stage:
    ...         _ = (stage / "report.html").write_text("third")
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> sorted(p.name for p in out.iterdir()), len(list(out.parent.iterdir()))  # untouched, no leftovers
    (['senforecast.xlsx'], 1)
    """
    path = check_output_folder(out, option=option)
    shown = os.fspath(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stage = path.parent / _STAGE.format(name=path.name, pid=os.getpid(), tag=uuid.uuid4().hex[:8])
        stage.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot write the output to {shown!r}: {_describe(exc)}") from None
    try:
        yield stage
        if path.is_dir() and foreign_files(path):
            raise OutputError(f"{option} {shown!r} gained files senforecast did not write while the run "
                              f"was going ({', '.join(foreign_files(path))}); nothing was replaced")
        _swap_in(stage, path)
    except OSError as exc:
        with _interrupts_held():
            shutil.rmtree(stage, ignore_errors=True)
        earlier = " The earlier output there is unchanged." if path.exists() else ""
        raise OutputError(f"could not write the output to {shown!r}: {_describe(exc)}"
                          f"{_while_writing(exc, stage)}; nothing was written.{earlier}") from None
    except BaseException:
        with _interrupts_held():
            shutil.rmtree(stage, ignore_errors=True)
        raise
