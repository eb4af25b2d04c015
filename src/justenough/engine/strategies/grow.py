"""The grow strategy's decisions: which configs to train next, and when growth stops.

Pure logic, no training: given the space's configs and the restarts trained so far (a table
with ``key``, ``restart``, ``val_score``, ``diverged``, as ``study.tables.restarts_table`` writes it),
``walk`` replays the whole walk from the start and returns what to train next (or that it is
done), the path taken and why each direction stopped. Replaying from the results instead of
keeping state is what makes a resumed or shared search take the same path: the walk is a
function of the results alone.

The walk. A *node* is an architecture class ``(depth, width)`` (width: the first hidden layer's,
0 for depth 0); its configs are every config of the space with that depth and width (other
dimensions: activation, lr, shape...), and it is represented by its best config (highest mean;
judged by ensembles, the highest ensemble score).
It starts at the simplest node (depth 0 when the space has it, else the smallest depth at the
smallest width). From the best node so far two directions grow: *width* (the next width of the
space at the same depth; from depth 0, one hidden layer of the smallest width, then of the next
width, and so on) and *depth* (the next depth at the same width; from depth 0, depth 1 at the
smallest width, then depth 2 at it...). From depth 0 both directions' first step is the same node,
compared once. Step i of a direction is i widths (or depths) away from
the best node. A round trains the next step of every live direction. Each step is compared with
the best node by the noise model (``select.paired_noise``: paired over the same validation rows and
restart seeds, when the per-row ``evidence`` is given; else restart k against restart k,
``select.paired_difference``). A step *beats* the best when its gain is confidently large, above
the 68% band (one SE, widened for few restarts); then it becomes the best and every direction
starts afresh from it. A step *fails* only when its gain is confidently small: gain plus the band
at most ``margin`` (0: it is confidently no better; a tolerance rule's E: it is confidently not
worth E). A step in between is undecided: its direction goes on to the next step without counting
a failure, so a noisier estimate makes grow try more, not less. A direction stops after
``patience`` failed steps since the best last changed, at the edge of the space, or where the next
step's smallest config has more than ``max_params`` parameters (``members`` networks of it when the
model is an ensemble of that many restarts, as the choice counts it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from justenough.run.growth import Growth, GrowthStep, NotNeeded
from justenough.space.config import Config, architecture_label

__all__ = ["Node", "Step", "Walk", "walk", "nodes_of", "DIRECTIONS", "DEFAULT_PATIENCE"]

DIRECTIONS = ("width", "depth")
DEFAULT_PATIENCE = 2

Node = tuple[int, int]  # (depth, width of the first hidden layer; 0 at depth 0)


def node_of(cfg: Config) -> Node:
    return (cfg.depth, cfg.widths[0] if cfg.widths else 0)


def node_label(node: Node) -> str:
    """A node's label: the label of its configs of one width throughout."""
    return architecture_label(node[0], (node[1],) * node[0])


def nodes_of(configs: Sequence[Config]) -> dict[Node, list[Config]]:
    """The space's configs grouped by node, in the space's order inside a node."""
    out: dict[Node, list[Config]] = {}
    for cfg in configs:
        out.setdefault(node_of(cfg), []).append(cfg)
    return out


@dataclass(frozen=True)
class Step:
    """One trained step, compared with the best node at the time (``mean_diff``: step minus best)."""

    node: Node
    key: str
    direction: str  # "start", "width" or "depth"
    round: int
    compared_to: Node | None
    compared_key: str | None
    mean_diff: float
    se_diff: float
    n_pairs: int
    beat: bool
    band: float = math.nan  # the 68% band of mean_diff (one SE, widened for few restarts)
    failed: bool = False  # confidently small: mean_diff + band <= the margin

    def recorded(self) -> GrowthStep:
        """The step as summary.json's ``growth.path`` records it (labels for nodes, None for non-finite numbers)."""
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return GrowthStep(
            config=node_label(self.node), key=self.key, direction=self.direction, round=self.round,
            compared_to=node_label(self.compared_to) if self.compared_to is not None else None,
            compared_key=self.compared_key, mean_diff=num(self.mean_diff), se_diff=num(self.se_diff),
            n_pairs=self.n_pairs, beat=self.beat, failed=self.failed,
        )


@dataclass
class Walk:
    """Where the walk stands: ``pending`` (configs to train before it can go on; empty when done),
    the ``path`` of trained steps in order, the ``best`` node and each direction's stop reason."""

    pending: list[Config]
    path: list[Step]
    best: Node | None
    stops: dict[str, str] = field(default_factory=dict)
    stop_steps: dict[str, list[Step]] = field(default_factory=dict)  # the failed steps that stopped a direction

    @property
    def done(self) -> bool:
        return not self.pending


def _node_scores(restarts: pd.DataFrame, configs: list[Config], evidence: Any = None) -> tuple[str, float] | None:
    """The node's representative: its config with the highest validation score (ties: the space's
    order); None when none of its configs is trained. The score is the restarts' mean, or the
    config's own as ``evidence`` judges it where that is a ``select.ModelEvidence`` (the ensemble's
    score when the choice judges ensembles), so the walk ranks what the rule compares."""
    from justenough.select.noise import ModelEvidence

    best: tuple[str, float] | None = None
    for cfg in configs:
        rows = restarts[restarts["key"] == cfg.key]
        if rows.empty:
            continue
        judged = evidence.score(cfg.key) if isinstance(evidence, ModelEvidence) else None
        if judged is not None:
            mean = judged.mean
        else:
            ok = rows.loc[~rows["diverged"].astype(bool), "val_score"].astype(float)
            mean = float(ok.mean()) if len(ok) else -math.inf
        if best is None or mean > best[1]:
            best = (cfg.key, mean)
    return best


def _trained(restarts: pd.DataFrame, configs: list[Config]) -> bool:
    keys = set(restarts["key"].astype(str)) if not restarts.empty else set()
    return all(c.key in keys for c in configs)


@dataclass
class _Lattice:
    """The space's nodes as a lattice of depths x widths, and the walk's moves on it."""

    nodes: dict[Node, list[Config]]
    n_in: int
    n_out: int
    max_params: int | None
    members: int = 1  # networks in the model: the ensemble's restarts, or 1
    depths: list[int] = field(init=False)
    widths: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.depths = sorted({d for d, _ in self.nodes})
        self.widths = sorted({w for d, w in self.nodes if d > 0})

    def params(self, node: Node) -> int:
        return min(c.params(self.n_in, self.n_out) for c in self.nodes[node])

    def too_big(self, node: Node) -> bool:
        return self.max_params is not None and self.members * self.params(node) > self.max_params

    def limit_text(self) -> str:
        as_ensemble = f" as an ensemble of {self.members} restarts" if self.members > 1 else ""
        return f"more than max_params={self.max_params} parameters{as_ensemble}"

    def chain(self, best: Node, direction: str, i: int) -> Node | None:
        """Step ``i`` (1, 2, ...) of ``direction`` from ``best``; None past the space's edge."""
        depths, widths = self.depths, self.widths
        d, w = best
        if direction == "width" and d == 0:
            # From the linear model, width grows the first hidden layer: 1 x the i-th width (its
            # first step, 1 x the smallest width, is depth's first step too).
            first = next((x for x in depths if x > 0), None)
            if first is None or i > len(widths):
                return None
            node = (first, widths[i - 1])
        elif direction == "width":
            if w not in widths or widths.index(w) + i >= len(widths):
                return None
            node = (d, widths[widths.index(w) + i])
        else:
            if depths.index(d) + i >= len(depths):
                return None
            node = (depths[depths.index(d) + i], widths[0] if d == 0 else w)
        return node if node in self.nodes else None

    def candidates(self, best: Node, fails: dict[str, int], taken: dict[str, int], failed_steps: dict[str, list[Step]],
                   patience: int, stops: dict[str, str]) -> dict[str, Node]:
        """Each live direction's next node from ``best``; a direction that cannot go on gets its
        reason in ``stops`` (and loses an old one when it can)."""
        candidates: dict[str, Node] = {}
        for direction in DIRECTIONS:
            if fails[direction] >= patience:
                stops[direction] = f"{patience} steps were confidently no better than {node_label(best)}"
                continue
            node = self.chain(best, direction, taken[direction] + 1)
            if node is None:
                stops[direction] = f"the space has no {'wider' if direction == 'width' else 'deeper'} config than {node_label(best) if not failed_steps[direction] else node_label(failed_steps[direction][-1].node)}"
                continue
            if self.too_big(node):
                stops[direction] = f"{node_label(node)} would have {self.limit_text()}"
                continue
            stops.pop(direction, None)
            candidates[direction] = node
        return candidates


# 83 lines: one replay of the walk, round by round; its state (best, fails, taken, stops) is one loop's.
def walk(
    configs: Sequence[Config],
    restarts: pd.DataFrame,
    *,
    n_in: int,
    n_out: int,
    patience: int = DEFAULT_PATIENCE,
    max_params: int | None = None,
    members: int = 1,
    evidence: Any = None,
    margin: float = 0.0,
) -> Walk:
    """Replay the walk over ``configs`` (the space's) on the results in ``restarts``; see the module
    doc. ``members``: the networks a config's model holds (the restarts, when the model is their
    ensemble), which ``max_params`` counts; ``evidence``: per-row shares by config and restart
    (``select.RowEvidence``); ``margin``: the gain below which a step is not worth having (0, or a
    tolerance rule's E)."""
    from justenough.select import paired_difference, paired_noise

    if patience < 1:
        from justenough.errors import ConfigError

        raise ConfigError(f"grow_patience must be at least 1, got {patience}")
    if restarts.empty:
        restarts = pd.DataFrame({"key": pd.Series(dtype=str), "restart": [], "val_score": [], "diverged": []})
    lattice = _Lattice(nodes_of(configs), n_in, n_out, max_params, members)
    nodes, depths, widths = lattice.nodes, lattice.depths, lattice.widths
    start: Node = (0, 0) if 0 in depths else (depths[0], widths[0])

    if lattice.too_big(start) and max_params is not None:
        return Walk([], [], None, {"all": f"even the simplest config, {node_label(start)}, has {lattice.limit_text()}"})
    if not _trained(restarts, nodes[start]):
        return Walk(list(nodes[start]), [], None)
    rep = _node_scores(restarts, nodes[start], evidence)
    assert rep is not None
    path = [Step(start, rep[0], "start", 0, None, None, math.nan, math.nan, 0, True)]
    best, best_key = start, rep[0]
    been_best = {start}
    fails = {d: 0 for d in DIRECTIONS}  # steps confidently no better, since the best last changed
    taken = {d: 0 for d in DIRECTIONS}  # steps taken (failed or undecided), since the best last changed
    failed_steps: dict[str, list[Step]] = {d: [] for d in DIRECTIONS}
    stops: dict[str, str] = {}
    round_no = 0
    while True:
        round_no += 1
        candidates = lattice.candidates(best, fails, taken, failed_steps, patience, stops)
        if not candidates:
            return Walk([], path, best, stops, {d: list(failed_steps[d]) for d in stops})
        untrained = [c for node in dict.fromkeys(candidates.values()) for c in nodes[node] if not _trained(restarts, [c])]
        if untrained:
            return Walk(untrained, path, best, stops, {d: list(failed_steps[d]) for d in stops})
        winners: list[tuple[float, Node, str]] = []
        steps: dict[Node, Step] = {}  # one comparison per node: from the linear model, both directions' first step is 1 x the smallest width
        for direction, node in candidates.items():
            if node not in steps:
                rep = _node_scores(restarts, nodes[node], evidence)
                assert rep is not None
                noise = paired_noise(evidence, rep[0], best_key)
                if noise is not None:
                    mean, se, n, band = noise.mean, noise.se, noise.n_restarts, noise.band
                else:
                    diff = paired_difference(restarts, rep[0], best_key)
                    mean, se, n = diff["mean_diff"], diff["se_diff"], int(diff["n"])
                    # With one restart there is no SE: any gain counts (the user asked for no evidence).
                    band = se if math.isfinite(se) else (0.0 if n == 1 else math.inf)
                beat = math.isfinite(mean) and mean > band and node not in been_best
                # Confidently small (or no score at all): the only evidence that stops a direction.
                failed = not beat and (not math.isfinite(mean) or mean + band <= margin or node in been_best)
                steps[node] = Step(node, rep[0], direction, round_no, best, best_key, mean, se, n, beat, band, failed)
                path.append(steps[node])
                if beat:
                    winners.append((rep[1], node, rep[0]))
            step = steps[node]
            if not step.beat:
                taken[direction] += 1
                failed_steps[direction].append(step)
                if step.failed:
                    fails[direction] += 1
        if winners:
            # The best of the round's winners (a stable max: width before depth on a tie).
            _, best, best_key = max(winners, key=lambda w: w[0])
            been_best.add(best)
            fails = {d: 0 for d in DIRECTIONS}
            taken = {d: 0 for d in DIRECTIONS}
            failed_steps = {d: [] for d in DIRECTIONS}
            stops = {}


def explain(w: Walk, percent: bool) -> str:
    """Where growth stopped and why: ``"2x64 did not beat 1x128 (-0.10 +/- 0.30 points paired, mean +/- SE),
    nor did 1x256 (+0.20 +/- 0.40 points): stopped"``, one sentence per direction."""
    from justenough.select import format_difference

    if w.best is None:
        return "growth did not start: " + "; ".join(w.stops.values()) if w.stops else "growth did not start"
    parts = []
    for direction in DIRECTIONS:
        if direction not in w.stops:
            continue
        steps = w.stop_steps.get(direction, [])
        reason = w.stops[direction]
        if steps:
            first, rest = steps[0], steps[1:]
            text = (f"{node_label(first.node)} did not beat {node_label(first.compared_to or w.best)} "
                    f"({format_difference(first.mean_diff, first.se_diff, percent)} paired, mean +/- SE)")
            for s in rest:
                text += f", nor did {node_label(s.node)} ({format_difference(s.mean_diff, s.se_diff, percent)})"
            edge = "" if "confidently no better" in reason else f" and {reason}"
            parts.append(f"{direction}: {text}{edge}: stopped")
        else:
            parts.append(f"{direction}: stopped ({reason})")
    head = f"growth stopped at {node_label(w.best)}"
    return head + (": " + "; ".join(parts) if parts else "")


def summary(w: Walk, configs: Sequence[Config], percent: bool, stop_reason: str | None = None) -> Growth:
    """The account of the walk (summary.json's ``growth``): the path, the stops, the explanation
    and the configs that were not needed (never trained), with the reason."""
    tried = {s.key for s in w.path}
    tried_nodes = {s.node for s in w.path}
    explanation = explain(w, percent)
    if stop_reason:
        explanation += f" (the search stopped early: {stop_reason})"
    not_needed = []
    for cfg in configs:
        node = node_of(cfg)
        if node in tried_nodes or cfg.key in tried:
            continue
        if stop_reason:
            reason = f"the search stopped ({stop_reason}) before growth reached it"
        else:
            reason = f"growth stopped at {node_label(w.best)} before reaching it" if w.best else explanation
        not_needed.append(NotNeeded(key=cfg.key, config=cfg.label, depth=node[0], width=node[1], reason=reason))
    return Growth(
        strategy="grow",
        best=node_label(w.best) if w.best else None,
        path=tuple(s.recorded() for s in w.path),
        stops=dict(w.stops),
        explanation=explanation,
        not_needed=tuple(not_needed),
        complete=w.done and not stop_reason,
    )
