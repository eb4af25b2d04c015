"""A time budget leaves out the biggest configs, never the simple ones, and the explanation says so
(issue 24: the reason is never false)."""

from __future__ import annotations

from types import SimpleNamespace

from justenough.engine.finalize import not_trained_text
from justenough.settings import SearchSettings
from justenough.space import Space
from justenough.engine.driver import Driver


def _driver(time_budget: str | None) -> Driver:
    space = Space.from_options(depth="0-2", widths="4,64", max_epochs=5, embed="none")
    settings = SearchSettings(space=space, time_budget=time_budget)
    data = SimpleNamespace(n_features=10, n_outputs=3, folds=1)
    return Driver(handle=None, settings=settings, data=data, executor=None, is_grid=True,  # type: ignore[arg-type]
                  multi_objective=False, memory_budget=None, n_trials=None, progress=None,  # type: ignore[arg-type]
                  weights_sink=lambda results: None)


def _stack_costs(driver: Driver) -> list[int]:
    """The parameters of each stack, in the order the grid enqueues them."""
    costs: dict[tuple, int] = {}
    for cfg in driver._training_order(driver.space.configs()):
        key = driver._stack_key(cfg)
        costs[key] = costs.get(key, 0) + cfg.params(10, 3)
    return list(costs.values())


def test_without_a_budget_the_costliest_stacks_go_first() -> None:
    costs = _stack_costs(_driver(None))
    assert costs == sorted(costs, reverse=True)


def test_with_a_budget_the_simplest_stacks_go_first() -> None:
    driver = _driver("10m")
    costs = _stack_costs(driver)
    assert costs == sorted(costs)
    assert driver._training_order(driver.space.configs())[0].depth == 0  # the linear model first


def test_the_explanation_names_what_was_not_trained_and_why() -> None:
    text = not_trained_text(["3x256", "2x256"], "time budget", n_trained=20)
    assert text == (". Not trained: 2 configs (3x256, 2x256): the search stopped (time budget) before them; "
                    "the choice is among the 20 it trained")
    many = not_trained_text([f"c{i}" for i in range(9)], "time budget", n_trained=1)
    assert "9 configs (c0, c1, c2, c3, c4, c5, ...)" in many
