"""Many drivers on one PostgreSQL study: configs are claimed, never trained twice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from collections import Counter

import optuna
import pytest

from justenough.space.search_space import Space
from tests.services import postgres_admin_url, postgres_url  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

_DRIVER = textwrap.dedent(
    """
    import sys
    from justenough import search
    from justenough.space.search_space import Space
    space = Space.from_options(depth="1-2", widths="4,8,16,32,64", max_epochs=40, patience=None, embed="none")
    search("digits", space=space, n_init=2, storage=sys.argv[1], out=sys.argv[2], workers=1, report=False)
    """
)


def _run_drivers(script: str, url: str, tmp_path: Path, n: int) -> list[str]:
    """Run ``n`` search drivers on the shared study at ``url`` at once (each with its own run
    directory); assert each succeeded and return their outputs."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url, str(tmp_path / f"d{i}")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in range(n)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for p, text in zip(procs, outputs):
        assert p.returncode == 0, text[-3000:]
    return outputs


def test_three_drivers_finish_the_grid_once(postgres_url, tmp_path):  # noqa: F811
    outputs = _run_drivers(_DRIVER, postgres_url, tmp_path, 3)

    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    study = optuna.load_study(study_name="justenough", storage=url)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    keys = Counter(t.user_attrs["key"] for t in complete)
    space = Space.from_options(depth="1-2", widths="4,8,16,32,64", max_epochs=40, patience=None, embed="none")
    assert set(keys) == {c.key for c in space.configs()}
    assert set(keys.values()) == {1}, keys
    drivers = {t.user_attrs["driver"] for t in complete}
    assert len(drivers) >= 2, "the work should be shared between drivers"


def test_sqlite_single_driver_is_unaffected(tmp_path):
    from justenough import search

    space = Space.from_options(depth="1", widths="8", max_epochs=5, patience=None, embed="none")
    result = search("iris", space=space, n_init=2, out=tmp_path / "run", workers=1, report=False)
    assert (tmp_path / "run" / "study.db").exists()
    assert len(result.restarts) == 2


_GROW_DRIVER = textwrap.dedent(
    """
    import json, sys
    from justenough import search
    from justenough.space.search_space import Space
    space = Space.from_options(depth="0-2", widths="4,8,16,32,64", max_epochs=40, patience=None, embed="none")
    r = search("digits", space=space, n_init=2, storage=sys.argv[1], out=sys.argv[2], workers=1, report=False,
               strategy="grow")
    print("PATH=" + json.dumps([p["key"] for p in r.summary["growth"]["path"]]))
    """
)


def test_two_drivers_grow_one_shared_study_and_train_each_config_once(postgres_url, tmp_path):  # noqa: F811
    import json

    outputs = _run_drivers(_GROW_DRIVER, postgres_url, tmp_path, 2)
    paths = [json.loads(next(line for line in text.splitlines() if line.startswith("PATH="))[5:]) for text in outputs]
    assert paths[0] == paths[1], "both drivers replay the same walk from the shared results"

    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    study = optuna.load_study(study_name="justenough", storage=url)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    keys = Counter(t.user_attrs["key"] for t in complete)
    assert set(keys) == set(paths[0]), "exactly the configs on the growth path were trained"
    assert set(keys.values()) == {1}, keys
