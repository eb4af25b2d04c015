"""Every file of a run directory gets the same permissions: what the umask allows (0644 under the
usual 022), report.html included (it was once written 0600 by a second atomic writer)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from justenough import search
from justenough.report import build_report
from justenough.space.search_space import Space


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_every_file_of_a_run_directory_has_the_umask_permissions(tmp_path: Path) -> None:
    out = tmp_path / "iris"
    space = Space.from_options(depth="1", widths="4", max_epochs=3, patience=None)
    search("iris", space=space, n_init=2, out=out, workers=1, diagnose_every=1)
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"report.html", "summary.json", "leaderboard.csv", "results.csv", "history.csv", "diagnostics.csv",
            "data.json", "study.db", "model/model.json", "model/weights.safetensors"} <= names
    want_file = 0o666 & ~_umask()
    want_dir = 0o777 & ~_umask()
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert modes == {name: want_file for name in modes}
    dirs = [p for p in out.rglob("*") if p.is_dir()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in dirs} == {want_dir}
    # A rebuilt report, and one written elsewhere, too.
    build_report(out)
    assert stat.S_IMODE((out / "report.html").stat().st_mode) == want_file
    elsewhere = build_report(out, out=tmp_path / "copy.html")
    assert stat.S_IMODE(elsewhere.stat().st_mode) == want_file
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "no temporary file may be left behind"
