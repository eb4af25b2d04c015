"""Real services for the tests: a two-node Ray cluster and a PostgreSQL server on loopback.

``.ci/run`` installs and starts PostgreSQL; the fixtures here start it too when they can (root,
Debian's ``pg_ctlcluster``), and skip with a visible reason only when a component cannot start.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

PG_ADMIN_URL = os.environ.get(
    "JUSTENOUGH_TEST_PG", "postgresql://justenough:justenough@127.0.0.1:5432/postgres"
)


def _unavailable(reason: str) -> None:
    """Skip with the reason; in CI (``CI=true``), where .ci/run provides every service, fail instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must provide this service: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def _try_start_postgres() -> None:
    """Start Debian's cluster and create the test role, as .ci/run does (root only)."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    if not versions:
        return
    version = versions[-1].parent.name
    subprocess.run(["pg_ctlcluster", version, "main", "start"], capture_output=True)
    sql = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='justenough') THEN "
        "CREATE ROLE justenough LOGIN PASSWORD 'justenough' CREATEDB; END IF; END $$;"
    )
    subprocess.run(["su", "postgres", "-c", f'psql -q -c "{sql}"'], capture_output=True)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    pytest.importorskip("psycopg", reason="psycopg is not installed (the postgres extra)")
    try:
        _pg_connect(PG_ADMIN_URL).close()
    except Exception:
        _try_start_postgres()
        deadline = time.time() + 20
        while True:
            try:
                _pg_connect(PG_ADMIN_URL).close()
                break
            except Exception as exc:
                if time.time() > deadline:
                    _unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL} and could not be started: {exc}")
                time.sleep(0.5)
    return PG_ADMIN_URL


@pytest.fixture()
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"je_{uuid.uuid4().hex[:12]}"
    with _pg_connect(postgres_admin_url) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with _pg_connect(postgres_admin_url) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """Two Ray nodes on this machine (one CPU each): a head and a worker. Yields the address."""
    pytest.importorskip("ray", reason="ray is not installed (the ray extra)")
    ray_bin = str(Path(sys.executable).parent / "ray") if (Path(sys.executable).parent / "ray").exists() else (shutil.which("ray") or "ray")
    if not Path(ray_bin).exists():
        _unavailable("the 'ray' command is not installed")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # Token authentication off for the whole test cluster (head, worker and this driver). Without
    # an explicit mode, a ~/.ray/auth_token left by an earlier local ray.init() makes the head
    # expect a token that the second node does not send.
    previous_mode = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    head = subprocess.run(
        [ray_bin, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "1",
         "--include-dashboard=false", "--disable-usage-stats"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    if head.returncode != 0:
        _unavailable(f"could not start a Ray head node: {head.stderr[-500:]}")
    worker = subprocess.run(
        [ray_bin, "start", "--address", address, "--node-ip-address", "127.0.0.1", "--num-cpus", "1"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    if worker.returncode != 0:
        subprocess.run([ray_bin, "stop", "--force"], capture_output=True)
        _unavailable(f"could not start a second Ray node: {worker.stderr[-500:]}")
    try:
        yield address
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([ray_bin, "stop", "--force"], capture_output=True, env=env, timeout=120)
        if previous_mode is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = previous_mode
