"""Make the figures and tables of docs/initialization.md with the init lab itself.

    OMP_NUM_THREADS=1 .venv/bin/python docs/figures/make_initialization.py [--out runs/init_lab]

Runs two labs: digits with the defaults (6 hidden relu layers of 64, every registered scheme,
10 restarts, 30 epochs, seed 0) and moons (2 tanh layers of 16, constant vs Glorot, for the
first-layer unit maps). Each lab is saved under --out (CSV tables and init_lab.html). The
figures are rendered to PNG in docs/figures/ by headless Chromium (``--chromium``), and the
digits summary is written to docs/figures/init_lab_summary.csv. About two minutes on one core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


from justenough.diagnose.lab import init_lab  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # chromium_png.py, beside this script (also when loaded by a test)

from chromium_png import png  # noqa: E402



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/init_lab", help="where the labs are saved")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    out = Path(args.out)

    digits = init_lab("digits", depth=6, width=64, activation="relu", n_init=10, epochs=30, seed=0)
    digits.save(out / "digits")
    digits.summary.to_csv(HERE / "init_lab_summary.csv", index=False, float_format="%.4g")
    print(digits.summary.to_string())
    moons = init_lab("moons", depth=2, width=16, activation="tanh",
                     schemes=["constant(value=0.1)", "glorot_uniform"], n_init=3, epochs=50, seed=0)
    moons.save(out / "moons")

    png(digits.figures["scores"], HERE / "init_scores.png", args.chromium)
    png(digits.figures["signal"], HERE / "init_signal.png", args.chromium)
    png(digits.figures["symmetry"], HERE / "init_symmetry.png", args.chromium)
    png(moons.figures["unit_maps"], HERE / "init_unit_maps.png", args.chromium)


if __name__ == "__main__":
    main()
