"""``summary.json``'s ``growth``: the grow strategy's walk, typed (``Growth``, ``GrowthStep``, ``NotNeeded``).

``engine/strategies/grow.summary`` builds a ``Growth``; ``Summary.to_dict`` writes it with
``Growth.to_dict`` and ``Summary.from_json`` reads it back with ``Growth.from_json``, so the
report and ``show`` read fields, never the JSON's keys. Its JSON, keys in this order::

    {"strategy": "grow", "best": "1x128" | null,
     "path": [{"config", "key", "direction", "round", "compared_to", "compared_key",
               "mean_diff", "se_diff", "n_pairs", "beat", "failed"}, ...],   # in the order trained
     "stops": {"width": reason, "depth": reason},
     "explanation": "growth stopped at ...",
     "not_needed": [{"key", "config", "depth", "width", "reason"}, ...],     # never trained
     "complete": true | false}

A run of this version reads back and writes out the same object (same keys, same order). Files
from earlier versions lack keys added since (a step's ``failed``, a config's ``depth`` and
``width``): they read as the field's default. Keys this version does not know are kept, in each
object's ``extra``, and written back after the known ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping, TypeVar

__all__ = ["Growth", "GrowthStep", "NotNeeded"]

_T = TypeVar("_T")


def _known_and_extra(cls: type[_T], obj: Mapping[str, Any]) -> _T:
    """``cls`` from a JSON object: its fields' keys as fields, the other keys in ``extra``."""
    names = {f.name for f in fields(cls)} - {"extra"}  # type: ignore[arg-type]
    known = {k: v for k, v in obj.items() if k in names}
    # Every dataclass here has an ``extra`` field, which ``type[_T]`` cannot say.
    return cls(**known, extra={k: v for k, v in obj.items() if k not in names})  # type: ignore[call-arg]


def _as_dict(obj: Any) -> dict[str, Any]:
    """The JSON object of one of the dataclasses here: its fields in order, then ``extra``."""
    return {**{f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "extra"}, **obj.extra}


@dataclass(frozen=True)
class GrowthStep:
    """One trained step of the walk, compared with the best config at the time."""

    config: str  # the step's node, as a label ("2x64"; "linear")
    key: str  # the config trained for it (its node's representative)
    direction: str = ""  # "start", "width" or "depth"
    round: int = 0  # the walk's round, from 1
    compared_to: str | None = None  # the best node's label at the time (None: the first step)
    compared_key: str | None = None
    mean_diff: float | None = None  # the step's score minus the best's, paired (None: not finite)
    se_diff: float | None = None  # its standard error (None: fewer than two pairs)
    n_pairs: int = 0
    beat: bool = False  # beat the best by more than its band: the walk moved here
    failed: bool = False  # confidently no better: counts toward stopping its direction
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "GrowthStep":
        return _known_and_extra(cls, obj)

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class NotNeeded:
    """A config of the space the walk never trained, and why."""

    key: str
    config: str  # its label
    depth: int | None = None  # its node (None: a file from before they were written)
    width: int | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "NotNeeded":
        return _known_and_extra(cls, obj)

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class Growth:
    """The grow strategy's walk: its path, its stops, the explanation and the configs not needed."""

    strategy: str = "grow"
    best: str | None = None  # the node it stopped at, as a label (None: growth did not start)
    path: tuple[GrowthStep, ...] = ()  # the steps in the order trained
    stops: dict[str, str] = field(default_factory=dict)  # direction -> why it stopped
    explanation: str = ""  # where growth stopped and why, in words (grow.explain)
    not_needed: tuple[NotNeeded, ...] = ()
    complete: bool = False  # the walk ended by itself (not cut short by the search's budget)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Growth":
        """A growth from ``summary.json``'s ``growth`` object (of this version or an earlier one)."""
        typed = {**obj, "path": tuple(GrowthStep.from_json(s) for s in obj.get("path", ())),
                 "not_needed": tuple(NotNeeded.from_json(n) for n in obj.get("not_needed", ()))}
        return _known_and_extra(cls, typed)

    def to_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``growth`` object, JSON-ready (lists, not tuples)."""
        out = _as_dict(self)
        out["path"] = [s.to_dict() for s in self.path]
        out["not_needed"] = [n.to_dict() for n in self.not_needed]
        return out
