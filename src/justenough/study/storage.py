"""The persistent study: an Optuna study in SQLite (default) or any SQLAlchemy URL.

What lives here: opening or creating the study, the fingerprint that refuses a resume on other
data or another space, claiming trials (so several drivers never train a config twice), heartbeats,
and finding trials whose driver died so they are retried.

Restart results are trial user attributes keyed ``restart_{k}``: writing one twice stores it once
(invariant 5 of docs/architecture.md, idempotent results).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

import optuna
from optuna.trial import FrozenTrial, TrialState

from justenough.errors import ConfigError, StorageError, option

__all__ = [
    "StudyHandle",
    "open_study",
    "storage_url",
    "check_storage",
    "driver_id",
    "DONE_STATES",
    "restart_attr",
    "redact_url",
]

DONE_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 30
_STUDY_NAME = "justenough"

optuna.logging.set_verbosity(optuna.logging.WARNING)


def driver_id() -> str:
    """Who is training a trial: host, process and start time, so a dead local driver is detected."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(_PROCESS_START)}"


_PROCESS_START = time.time()


def storage_url(storage: str | None, out: Path | None) -> str | None:
    """The study's storage URL: the one given, else ``sqlite:///OUT/study.db``, else in memory (None)."""
    if storage:
        if storage.startswith("postgresql://"):
            # SQLAlchemy's default driver for postgresql:// is psycopg2; we ship psycopg (3).
            storage = "postgresql+psycopg://" + storage[len("postgresql://") :]
        return storage
    if out is not None:
        return f"sqlite:///{(out / 'study.db').resolve()}"
    return None


def check_storage(storage: Any) -> None:
    """Refuse a storage that is not a database URL SQLAlchemy knows (``SearchSettings`` asks,
    before anything is created): a typo costs nothing and leaves no run directory. A known kind
    whose driver is not installed is left to ``open_study``, which says what to install."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "write a database URL such as sqlite:///study.db or postgresql+psycopg://user:password@host/db"
    if not isinstance(storage, str) or not storage.strip():
        raise StorageError(f"{option('storage', storage)} is not a study storage: {example}")
    url = storage_url(storage, None) or storage
    try:
        make_url(url).get_dialect()
    except ImportError:
        return
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StorageError(f"cannot use the study storage {redact_url(url)}: {exc}; {example}") from None


def restart_attr(restart: int) -> str:
    """The trial attribute that holds restart ``restart``: its ``RestartRecord.to_attrs()``."""
    return f"restart_{restart}"


def _make_storage(url: str | None) -> optuna.storages.BaseStorage:
    """Open the storage. Several drivers starting together race to create the schema; the losers
    see "already exists" errors and simply try again."""
    if url is None:
        return optuna.storages.InMemoryStorage()
    for attempt in range(8):
        try:
            return _make_rdb_storage(url)
        except StorageError as exc:
            if not any(text in str(exc) for text in ("already exists", "UniqueViolation", "UNIQUE constraint failed")):
                raise
            time.sleep(0.25 + 0.25 * attempt + (os.getpid() % 7) * 0.05)
    return _make_rdb_storage(url)


def _sqlite_connect(path: str) -> Any:
    """A connection to the study's SQLite file: write-ahead log, synced at checkpoints.

    The driver commits once per stored attribute (Optuna's API), hundreds of times per search;
    with the default rollback journal each commit syncs two files. WAL with
    ``synchronous=NORMAL`` stays consistent if a process dies (a power cut may lose the last
    commits, which a resume then retrains), and lets several local drivers read while one
    writes. (WAL needs a local file system: keep run directories off NFS, or use PostgreSQL.)
    """
    import sqlite3

    conn = sqlite3.connect(path, timeout=60, check_same_thread=False)  # as SQLAlchemy's pool expects
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _make_rdb_storage(url: str) -> optuna.storages.BaseStorage:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:" and "?" not in url:
        engine_kwargs: dict[str, Any] = {"creator": functools.partial(_sqlite_connect, url[len("sqlite:///") :])}
    elif url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():
            # Optuna marks heartbeat_interval experimental; we use it deliberately (docs/architecture.md, library facts).
            warnings.simplefilter("ignore")
            return optuna.storages.RDBStorage(
                url,
                heartbeat_interval=HEARTBEAT_INTERVAL_S,
                grace_period=GRACE_PERIOD_S,
                engine_kwargs=engine_kwargs,
            )
    except ImportError as exc:
        raise StorageError(
            f"the storage {url.split('://')[0]!r} needs a database driver that is not installed ({exc}); "
            "for PostgreSQL: pip install 'justenough[postgres]'"
        ) from exc
    except Exception as exc:  # SQLAlchemy's connection and URL errors
        raise StorageError(f"cannot open the study storage {redact_url(url)}: {exc}") from exc


def redact_url(url: str) -> str:
    """Hide a password in a database URL for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


@dataclass
class StudyHandle:
    """An open study plus what justenough keeps beside Optuna's own records."""

    study: optuna.Study
    url: str | None
    created: bool

    @property
    def storage(self) -> optuna.storages.BaseStorage:
        return self.study._storage

    # --- trials -------------------------------------------------------------------------

    def trials(self, states: Iterable[TrialState] | None = None) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False, states=tuple(states) if states is not None else None)

    def keys_in(self, states: Iterable[TrialState]) -> dict[str, FrozenTrial]:
        """Config key -> the earliest trial in one of ``states`` for that key."""
        found: dict[str, FrozenTrial] = {}
        for t in sorted(self.trials(states), key=lambda t: t.number):
            key = t.user_attrs.get("key")
            if key is not None and key not in found and not t.user_attrs.get("duplicate_of"):
                found[key] = t
        return found

    def ask(self) -> optuna.Trial:
        """The next trial, claimed by this process alone: a waiting one if any, else a new one.

        Optuna claims a waiting trial by reading its state and setting it RUNNING, with the row
        locked (``SELECT ... FOR UPDATE``). SQLite has no row locks and reads before it takes its
        write lock, so two processes could both read WAITING and both set RUNNING: both then train
        the trial, and the second to finish it fails (``UpdateFinishedTrialError``). On a SQLite
        file the claim therefore holds the same folder lock as opening the study; PostgreSQL's row
        lock needs none."""
        with _folder_lock(self.url):
            return self.study.ask()

    def heartbeat(self, trial_ids: Iterable[int]) -> None:
        """Tell the storage these trials are still being trained (RDB storages only)."""
        storage = self.storage
        if isinstance(storage, optuna.storages.RDBStorage):
            for tid in trial_ids:
                storage.record_heartbeat(tid)

    def fail_dead_trials(self) -> list[int]:
        """Fail RUNNING trials whose driver is gone, so their configs are retried.

        Two signals: a local driver process that no longer exists (found at once), and a heartbeat
        older than the grace period (any host, via Optuna's ``fail_stale_trials``).
        """
        failed: list[int] = []
        host = socket.gethostname()
        for t in self.trials((TrialState.RUNNING,)):
            owner = str(t.user_attrs.get("driver", ""))
            parts = owner.split(":")
            # A trial with no driver yet: its driver died between asking it and naming itself
            # (``engine.driver.Driver._claim`` names itself first thing, within milliseconds).
            orphan = not owner and t.datetime_start is not None and time.time() - t.datetime_start.timestamp() > GRACE_PERIOD_S
            if orphan or (len(parts) == 3 and parts[0] == host and owner != driver_id()):
                if orphan or not _pid_alive(int(parts[1])):
                    try:
                        if self.storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                            failed.append(t.number)
                    except Exception:  # another driver got there first
                        pass
        if isinstance(self.storage, optuna.storages.RDBStorage):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                before = {t.number for t in self.trials((TrialState.FAIL,))}
                optuna.storages.fail_stale_trials(self.study)
                after = {t.number for t in self.trials((TrialState.FAIL,))}
            failed.extend(sorted(after - before))
        return failed

    # --- study attributes ---------------------------------------------------------------

    def get_attr(self, name: str, default: Any = None) -> Any:
        return self.study.user_attrs.get(name, default)

    def set_attr(self, name: str, value: Any) -> None:
        self.study.set_user_attr(name, value)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_study(
    url: str | None,
    *,
    fingerprint: dict[str, Any],
    sampler: optuna.samplers.BaseSampler,
    directions: list[str],
) -> StudyHandle:
    """Create the study, or load it and check that it was made for the same data and space.

    ``fingerprint`` holds what must match for a resume: the data, the space, n_init, the seed.
    A mismatch raises ``ConfigError`` that names what changed and how to start afresh.
    """
    with _folder_lock(url):
        return _open_study(url, fingerprint=fingerprint, sampler=sampler, directions=directions)


@contextlib.contextmanager
def _folder_lock(url: str | None) -> Iterator[None]:
    """Let one process at a time open a study in a SQLite file (creating it if need be), or claim
    one of its trials (``StudyHandle.ask``).

    Two searches started together into one new run directory would otherwise both create the
    schema, and one fails with SQLite's "UNIQUE constraint failed" (alembic's version row). With
    the lock, the first creates the study and writes its fingerprint, the second then loads it and
    both train the shared study. The lock is ``flock`` on the folder that holds the file (no lock
    file is left behind), released when the descriptor closes, also when a process dies. Without
    ``fcntl`` (Windows) or a readable folder, the retries of ``_make_storage`` remain. Other
    storages (PostgreSQL, in-memory) take no lock.
    """
    path = _sqlite_path(url)
    fd = None
    if path is not None and fcntl is not None:
        try:
            fd = os.open(path.parent, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _sqlite_path(url: str | None) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL (None for other storages and in-memory SQLite)."""
    if url is None or not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    return Path(url[len("sqlite:///") :].split("?", 1)[0])


def _open_study(
    url: str | None,
    *,
    fingerprint: dict[str, Any],
    sampler: optuna.samplers.BaseSampler,
    directions: list[str],
) -> StudyHandle:
    storage = _make_storage(url)
    created = False
    try:
        study = optuna.create_study(
            study_name=_STUDY_NAME, storage=storage, sampler=sampler, directions=directions  # type: ignore[arg-type]  # "maximize"/"minimize" strings
        )
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=_STUDY_NAME, storage=storage, sampler=sampler)
    except Exception as exc:
        # Two drivers creating the study at the same moment: one wins, the other loads it.
        if "already exists" in str(exc) or "UniqueViolation" in str(exc) or "IntegrityError" in type(exc).__name__:
            time.sleep(0.5)
            try:
                study = optuna.load_study(study_name=_STUDY_NAME, storage=storage, sampler=sampler)
            except Exception as exc2:
                raise StorageError(f"cannot open the study in {redact_url(url or 'memory')}: {exc2}") from exc2
            handle = StudyHandle(study=study, url=url, created=False)
            return _check_fingerprint(handle, fingerprint, storage, sampler, url)

        raise StorageError(f"cannot create the study in {redact_url(url or 'memory')}: {exc}") from exc

    handle = StudyHandle(study=study, url=url, created=created)
    if created:
        for name, value in fingerprint.items():
            handle.set_attr(f"fingerprint_{name}", value)
        handle.set_attr("fingerprint_complete", True)
        return handle

    return _check_fingerprint(handle, fingerprint, storage, sampler, url)


def _as_read_now(name: str, stored: Any) -> Any:
    """A fingerprint value as this version writes it. Studies made before the settings read the
    sampler kept it as given (``"TPE"``, ``"nsgaii"``); it is now recorded as read (``"tpe"``,
    ``"nsga2"``), and such a study must still resume."""
    if name != "sampler" or not isinstance(stored, str):
        return stored
    from justenough.vocab import SAMPLER_ALIASES, Sampler, parse_choice

    try:
        return str(parse_choice(Sampler, stored, "sampler", SAMPLER_ALIASES))
    except ConfigError:  # not a sampler name: compared as it is, so the mismatch is reported
        return stored


def _check_fingerprint(
    handle: StudyHandle,
    fingerprint: dict[str, Any],
    storage: optuna.storages.BaseStorage,
    sampler: optuna.samplers.BaseSampler,
    url: str | None,
) -> StudyHandle:
    """Refuse to resume a study made for other data or another space."""
    # Another driver may have created the study a moment ago: wait for its fingerprint.
    deadline = time.time() + 30
    while not handle.get_attr("fingerprint_complete") and time.time() < deadline:
        time.sleep(0.2)
        study = optuna.load_study(study_name=_STUDY_NAME, storage=storage, sampler=sampler)
        handle.study = study
    changed = []
    for name, value in fingerprint.items():
        stored = _as_read_now(name, handle.get_attr(f"fingerprint_{name}"))
        if json.dumps(stored, sort_keys=True) != json.dumps(value, sort_keys=True):
            changed.append(name)
    # A key only some searches write (folds, strategy) that the study has and this search lacks.
    for attr in handle.study.user_attrs:
        name = attr.removeprefix("fingerprint_")
        if attr.startswith("fingerprint_") and name != "complete" and name not in fingerprint:
            changed.append(name)
    if changed:
        where = redact_url(url) if url else "memory"
        raise ConfigError(
            f"this study ({where}) was started with a different {', '.join(changed)}; "
            f"resuming it would mix results. Use a new run directory ({option('out')}) or {option('storage')}, or delete the old study."
        )
    return handle
