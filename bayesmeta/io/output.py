"""Writing result files: atomically, and never over an existing file unless asked."""

from __future__ import annotations

import json
import math
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayesmeta.errors import BayesmetaError

if TYPE_CHECKING:
    from pandas import DataFrame


def package_version() -> str:
    """The installed bayesmeta version, which every result file records (read on first use:
    importlib.metadata takes 30 ms to import, a window in which the command line could not yet
    handle Ctrl-C)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bayesmeta")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def level_key(prefix: str, level: float) -> str:
    """JSON key of an interval at ``level``: ``level_key("ci", 0.95) == "ci95"``."""
    return f"{prefix}{level * 100:g}"


def check_writable(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse to replace an existing file unless ``overwrite``; check the folder exists and
    can be written to."""
    path = Path(path)
    if path.is_dir():
        raise BayesmetaError(f"cannot write {path}: it is a folder; give a file name")
    if path.exists() and not overwrite:
        raise BayesmetaError(f"{path} exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise BayesmetaError(f"cannot write {path}: folder {path.parent} does not exist")
    try:  # a real file, as the write will make one: permissions, read-only mounts, quotas
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise BayesmetaError(
            f"cannot write {path}: folder {path.parent} is not writable ({exc.strerror or exc})"
        ) from None
    return path


def _same(a: Path, b: Path) -> bool:
    """The same file: equal resolved paths, or (both existing) one file under two names."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(
    outputs: Iterable[str | Path | None],
    *,
    inputs: Iterable[str | Path | None] = (),
    overwrite: bool = False,
) -> list[Path]:
    """Check every output location of a command before any work.

    Each must be writable (:func:`check_writable`), none may be one of the ``inputs`` (not
    even with ``overwrite``), and no two outputs may be the same file.

    Raises
    ------
    BayesmetaError
        The first problem, in one line.
    """
    given = [Path(p) for p in outputs if p is not None]
    sources = [Path(p) for p in inputs if p is not None]
    for i, path in enumerate(given):
        for source in sources:
            if _same(path, source):
                raise BayesmetaError(
                    f"cannot write {path}: it is an input of this command ({source}); "
                    "choose another output name"
                )
        for other in given[:i]:
            if _same(path, other):
                raise BayesmetaError(f"{other} is given for two outputs; give each its own file")
        check_writable(path, overwrite=overwrite)
    return given


# Temporary files written inside outputs_together(), with their destinations: renamed into
# place when the block ends, removed if it fails (None outside such a block).
_pending: list[tuple[str, Path, bool]] | None = None
_SIGNALS = ("SIGINT", "SIGTERM")


@contextmanager
def outputs_together(keep_on: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Outputs written inside the block (by :func:`write_atomic`) appear together when it
    ends, or none of them does.

    Each is written to its temporary file as usual, but renamed into place only when the block
    ends without an exception (or with one of ``keep_on``, e.g. a deliberate exit code), all
    at once with SIGINT and SIGTERM held back; if a signal is already waiting, nothing is
    renamed. Any other exception (Ctrl-C, an error) removes the temporary files: an interrupted
    or failed command leaves neither its outputs nor temporary files.
    """
    global _pending
    if _pending is not None:  # already inside one: the outer block decides
        yield
        return
    _pending = []
    try:
        yield
    except keep_on:
        _commit(_pending)
        raise
    except BaseException:
        _discard(_pending)
        raise
    else:
        _commit(_pending)
    finally:
        _discard(_pending)  # whatever a failed commit left
        _pending = None


def _discard(pending: list[tuple[str, Path, bool]]) -> None:
    for tmp, _, _ in pending:
        if os.path.exists(tmp):
            os.unlink(tmp)
    pending.clear()


def _commit(pending: list[tuple[str, Path, bool]]) -> None:
    """Rename every pending file into place, with SIGINT/SIGTERM held back meanwhile."""
    from bayesmeta import interrupts

    for _, path, overwrite in pending:
        if path.exists() and not overwrite:  # appeared while we were working
            raise BayesmetaError(f"{path} exists; pass --force to overwrite it")
    if interrupts.received() is not None:
        return  # interrupted, even if something swallowed it: keep nothing
    signals = {getattr(signal, name) for name in _SIGNALS}
    block = hasattr(signal, "pthread_sigmask")
    held = signal.pthread_sigmask(signal.SIG_BLOCK, signals) if block else set()
    try:
        if block and signals & signal.sigpending():
            return  # an interrupt came first: keep nothing (the finally removes the files)
        for tmp, path, _ in pending:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise BayesmetaError(f"cannot write {path}: {exc.strerror or exc}") from None
        pending.clear()
    finally:
        if block:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def write_atomic(
    path: str | Path, writer: Callable[[Path], None], *, overwrite: bool = False
) -> Path:
    """Let ``writer`` write a temporary file beside ``path``, then rename it into place.

    A reader never sees a half-written file, and an interrupted run leaves the old file (or
    none) rather than a truncated one. Inside :func:`outputs_together` the rename waits for the
    end of the block.
    """
    path = check_writable(path, overwrite=overwrite)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    deferred = False
    try:
        writer(Path(tmp))
        if path.exists() and not overwrite:  # appeared while we were writing
            raise BayesmetaError(f"{path} exists; pass --force to overwrite it")
        if _pending is not None:
            _pending.append((tmp, path, overwrite))
            deferred = True
        else:
            os.replace(tmp, path)
    except OSError as exc:
        raise BayesmetaError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if not deferred and os.path.exists(tmp):
            os.unlink(tmp)
    return path


# First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(table: DataFrame) -> DataFrame:
    """A copy of ``table`` for a CSV file: text cells that a spreadsheet would run as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return, e.g. a study or
    meta-analysis named ``=HYPERLINK(...)``) get a leading ``'``, as OWASP recommends.

    Only text is changed: numbers (``-0.5`` in a numeric column, or text that is a plain
    number) are left as they are, and so is every other format (Parquet, JSON keep the text).
    """
    import pandas as pd

    from bayesmeta.io.cells import is_number_text

    def safe(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            return value if is_number_text(value) else "'" + value
        return value

    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe)
    return out


def _finite(obj: Any) -> Any:
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def json_text(payload: dict[str, Any]) -> str:
    """``payload`` as indented JSON text, non-finite numbers as null (what the files hold)."""
    return json.dumps(_finite(payload), indent=2, allow_nan=False, default=str) + "\n"


def write_json(path: str | Path, payload: dict[str, Any], *, overwrite: bool = False) -> Path:
    """Write ``payload`` as indented JSON (non-finite numbers as null), atomically."""
    text = json_text(payload)
    return write_atomic(path, lambda tmp: tmp.write_text(text), overwrite=overwrite)
