"""What every restart leaves besides its record, kept until the run is finalized: its best weights
and its per-row validation evidence, both as safetensors files in the run directory (or in memory)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from justenough.study.record import RestartResult

__all__ = ["RestartArrays", "WeightsStore", "EvidenceStore"]


class RestartArrays:
    """Named arrays of every restart: ``OUT/FOLDER/KEY.safetensors`` (``R/NAME`` tensors), or in
    memory. ``part`` is the ``RestartResult`` field it keeps (a dict of NumPy arrays). All the
    restarts of a config arrive in one ``put`` (a config trains in one stack task)."""

    def __init__(self, out: Path | None, folder: str, part: str) -> None:
        self.dir = out / folder if out is not None else None
        self.part = part
        self.memory: dict[tuple[str, int], dict[str, np.ndarray]] = {}

    def put(self, results: list[RestartResult]) -> None:
        from safetensors.numpy import save

        from justenough.run.atomic import write_bytes

        by_key: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
        for r in results:
            arrays = getattr(r, self.part)
            if not arrays:
                continue
            if self.dir is None:
                self.memory[(r.key, r.restart)] = arrays
            else:
                for name, arr in arrays.items():
                    by_key[r.key][f"{r.restart}/{name}"] = np.ascontiguousarray(arr)
        if self.dir is not None and by_key:
            self.dir.mkdir(parents=True, exist_ok=True)
            for key, tensors in by_key.items():
                write_bytes(self.dir / f"{key}.safetensors", save(tensors))

    def of_config(self, key: str) -> dict[int, dict[str, np.ndarray]]:
        """Every kept restart of config ``key``: restart index -> its arrays (empty when none)."""
        found = {r: arrays for (k, r), arrays in self.memory.items() if k == key}
        if found or self.dir is None:
            return found
        path = self.dir / f"{key}.safetensors"
        if not path.exists():
            return {}
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
        except Exception:  # a file cut short by a crash is as good as none: the restart is retrained
            return {}
        out: dict[int, dict[str, np.ndarray]] = defaultdict(dict)
        for name, arr in tensors.items():
            restart, _, field = name.partition("/")
            out[int(restart)][field] = arr
        return dict(out)

    def get(self, key: str, restart: int) -> dict[str, np.ndarray] | None:
        return self.of_config(key).get(restart) or None


class WeightsStore(RestartArrays):
    """Best weights of every restart: ``OUT/weights/KEY.safetensors`` (``R/NAME`` tensors), or in memory."""

    def __init__(self, out: Path | None) -> None:
        super().__init__(out, "weights", "state")


class EvidenceStore(RestartArrays):
    """Per-row validation evidence of every restart: ``OUT/evidence/KEY.safetensors`` with
    ``R/share`` and ``R/loss`` (float32 ``[N]``, N at most ``task.EVIDENCE_ROWS``) and, where N x
    outputs is at most ``train.stack_data.OUTPUT_VALUES``, ``R/output`` (float32 ``[N, C]``) and
    ``R/target`` (the rows' targets), or in memory."""

    def __init__(self, out: Path | None) -> None:
        super().__init__(out, "evidence", "rows")

    def for_choice(self, keys: list[str], diverged: set[tuple[str, int]], ensembles_of: str | None = None) -> Any:
        """The evidence the choice reads: with ``ensembles_of`` (the task, when the model is the
        mean of a config's restarts), each config's ensemble (``select.ensemble_noise.EnsembleEvidence``)
        where every config kept its outputs here; else the restarts' shares (``shares``): without
        outputs (a run from before, or too many rows x outputs), or where a config's evidence is not
        in this run directory at all (trained by another driver of a shared study, which keeps it in
        its own), since judging some configs as ensembles and the others by their restarts would
        compare unlike scores, and drivers sharing a study must replay the same choices."""
        stored = {key: self.of_config(key) for key in keys}  # every member leaves evidence, diverged or not
        if ensembles_of is not None and all(stored.values()):
            from justenough.select.ensemble_noise import EnsembleEvidence, ensemble_shares

            kept = {key: {r: a for r, a in by_restart.items() if (key, r) not in diverged} for key, by_restart in stored.items()}
            kept = {key: by_restart for key, by_restart in kept.items() if by_restart}
            if kept and all("output" in a for by_restart in kept.values() for a in by_restart.values()):
                return EnsembleEvidence({
                    key: ensemble_shares({r: a["output"] for r, a in by_restart.items()},
                                         next(iter(by_restart.values()))["target"], ensembles_of)
                    for key, by_restart in kept.items()
                })
        return _shares(stored, diverged)

    def shares(self, keys: list[str], diverged: set[tuple[str, int]]) -> dict[str, dict[int, np.ndarray]]:
        """The noise model's evidence (``select.RowEvidence``): config key -> restart -> shares
        ``[N]``, leaving out the restarts in ``diverged`` and configs with no evidence kept."""
        return _shares({key: self.of_config(key) for key in keys}, diverged)


def _shares(stored: dict[str, dict[int, dict[str, np.ndarray]]], diverged: set[tuple[str, int]]) -> dict[str, dict[int, np.ndarray]]:
    """``EvidenceStore.shares`` of the evidence already read (config key -> restart -> arrays)."""
    out: dict[str, dict[int, np.ndarray]] = {}
    for key, by_restart in stored.items():
        kept = {r: a["share"] for r, a in by_restart.items() if "share" in a and (key, r) not in diverged}
        if kept:
            out[key] = kept
    return out
