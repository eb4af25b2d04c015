"""The initialization schemes the init lab compares by default."""

from __future__ import annotations

from justenough.nets import init as init_mod

__all__ = ["default_schemes"]

# The params the lab uses for the parametrized schemes (the lesson needs both a small and a
# large fixed-scale normal).
_LAB_PARAMS: dict[str, tuple[str, ...]] = {
    "normal": ("normal(std=0.01)", "normal(std=1.0)"),
    "constant": ("constant(value=0.1)",),
    "uniform": ("uniform(a=0.05)",),
}


def default_schemes() -> list[str]:
    """Every registered scheme as a spec, with the lab's params for the parametrized ones:
    ``normal(std=0.01)`` (small) and ``normal(std=1.0)`` (large), ``constant(value=0.1)``,
    ``uniform(a=0.05)``; symmetric schemes first, then fixed-scale, then the scaled ones."""
    specs: list[str] = []
    for name in init_mod.SCHEMES:
        specs.extend(_LAB_PARAMS.get(name, (name,)))
    order = {"zeros": 0, "constant": 1, "normal": 2, "uniform": 3}
    return sorted(specs, key=lambda s: (order.get(init_mod.parse(s).name, 4), specs.index(s)))
