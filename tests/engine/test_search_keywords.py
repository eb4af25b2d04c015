"""The Python API speaks like the CLI: ``search()`` takes every search-space option of the CLI as a
keyword (same names and syntax; its defaults the typed values the CLI's default text reads as),
and the reading options of ``load``."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest
import typer

from justenough import search
import justenough
from justenough.cli import app
from justenough.errors import ConfigError, DataError
from justenough.space.dims import parse_dim
from justenough.space.search_space import DEFAULT_SPACE_TEXT, DEFAULT_SPACE_VALUES, Space


def test_every_space_option_of_the_cli_is_a_keyword_with_the_typed_value_of_the_cli_default() -> None:
    keywords = inspect.signature(search).parameters
    command = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
    cli_defaults = {p.name: p.default for p in command.params}
    assert set(DEFAULT_SPACE_VALUES) == set(DEFAULT_SPACE_TEXT) == {f.name for f in fields(Space)}
    for name, value in DEFAULT_SPACE_VALUES.items():
        assert name in keywords, name
        assert keywords[name].kind is inspect.Parameter.KEYWORD_ONLY
        # The API's default is the typed value (the declared object itself), never text; the CLI's
        # is its text, which reads as that value.
        assert keywords[name].default is value and isinstance(value, tuple), name
        assert cli_defaults[name] == DEFAULT_SPACE_TEXT[name], name
        assert parse_dim(name, cli_defaults[name]) == parse_dim(name, value) == getattr(Space.default(), name), name
        assert parse_dim(name, value).values == value, name  # the values as the dimension holds them
    # The reading options, as the CLI's search takes them.
    for name in ("delimiter", "decimal", "encoding", "max_categories"):
        assert keywords[name].default == cli_defaults[name], name
    # The defaults make the default space, read from either side.
    api_defaults = {n: keywords[n].default for n in DEFAULT_SPACE_VALUES}
    cli_text_defaults = {n: cli_defaults[n] for n in DEFAULT_SPACE_TEXT}
    assert Space.from_options(**cli_text_defaults) == Space.from_options(**api_defaults) == Space.default()


def test_the_choice_keywords_default_to_their_vocabularies() -> None:
    from justenough.vocab import ExecutorKind, Precision, Sampler, Strategy

    keywords = inspect.signature(search).parameters
    expected = {"sampler": Sampler.AUTO, "strategy": Strategy.GRID, "executor": ExecutorKind.LOCAL,
                "precision": Precision.FLOAT32}
    for name, member in expected.items():
        assert keywords[name].default is member, name


def test_a_space_keyword_given_as_its_default_value_still_counts_as_given(tmp_path: Path) -> None:
    # Only the declared default object is "left at its default": an equal value written out is given.
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"the search-space keywords \(depth, batch_size\), not both"):
        search("iris", space=Space.default(), depth=(0, 1, 2, 3), batch_size=(64,), out=out)
    assert not out.exists()


def test_search_takes_the_cli_keywords() -> None:
    from justenough.data.datasets import load_dataset

    iris = load_dataset("iris")
    result = justenough.search(iris, depth="1-2", widths=[8, 32], n_init=3, lr="1e-2", max_epochs=10, workers=1, report=False)
    # iris's 4 inputs are few: the default embed "auto" trains each architecture with and without the embedding.
    expected = Space.from_options(depth="1-2", widths=[8, 32], lr="1e-2", max_epochs=10).for_task("classification", n_features=4).configs()
    assert sorted(result.leaderboard["key"]) == sorted(c.key for c in expected)
    assert sorted(result.leaderboard["label"]) == sorted(["1x32", "1x8", "2x32", "2x8", "1x32+periodic", "1x8+periodic",
                                                          "2x32+periodic", "2x8+periodic"])
    assert (result.restarts.groupby("key").size() == 3).all()
    assert set(result.restarts["lr"]) == {0.01} and set(result.restarts["max_epochs"]) == {10}


def test_space_and_a_space_keyword_conflict_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"either a whole space .* or the search-space keywords \(depth, widths\), not both"):
        search("iris", space=Space.default(), depth="1", widths="8", out=out)
    with pytest.raises(ConfigError, match=r"cannot read widths 'eight'"):
        search("iris", widths="eight", out=out)
    with pytest.raises(ConfigError, match="space must be a justenough.Space"):
        search("iris", space="1-2", out=out)  # type: ignore[arg-type]
    assert not out.exists()


@pytest.mark.parametrize("bad", ["best", "target=95", "tolerance=-0.1", "target=abc", "one-se=1", ""])
def test_a_bad_rule_is_refused_before_anything_is_written_or_trained(bad: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="rule|target|tolerance"):
        search("iris", rule=bad, depth="1", widths="4", max_epochs=5, n_init=1, out=out, workers=1)
    assert not out.exists()  # the run directory is made before the first training: none was made, none ran


@pytest.mark.parametrize(("keyword", "bad"), [("sampler", "magic"), ("executor", "slurm"), ("strategy", "shrink")])
def test_a_bad_sampler_executor_or_strategy_is_refused_before_anything_is_written(keyword: str, bad: str,
                                                                                 tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=f"unknown {keyword} '{bad}': use "):
        search("iris", depth="1", widths="4", max_epochs=5, n_init=1, out=out, workers=1, **{keyword: bad})
    assert not out.exists()


def test_the_choices_are_read_into_their_vocabularies() -> None:
    from justenough.settings import SearchSettings
    from justenough.vocab import ExecutorKind, Sampler, Strategy

    read = SearchSettings(space=Space.default(), sampler=" NSGA-II", strategy="Grid", executor="RAY")  # type: ignore[arg-type]
    assert (read.sampler, read.strategy, read.executor) == (Sampler.NSGA2, Strategy.GRID, ExecutorKind.RAY)
    assert type(read.sampler) is Sampler and type(read.strategy) is Strategy and type(read.executor) is ExecutorKind
    default = SearchSettings(space=Space.default())
    assert (default.sampler, default.strategy, default.executor) == (Sampler.AUTO, Strategy.GRID, ExecutorKind.LOCAL)


def test_the_rule_is_read_once_into_its_typed_value() -> None:
    from justenough.settings import SearchSettings
    from justenough.select import OneSERule, Rule, TargetRule

    assert isinstance(SearchSettings(space=Space.default()).rule, OneSERule)  # the default
    read = SearchSettings(space=Space.default(), rule=" Target=95% ").rule
    assert isinstance(read, TargetRule) and read == Rule("target", 0.95)
    given = Rule("tolerance", 0.01)
    assert SearchSettings(space=Space.default(), rule=given).rule is given  # a Rule is taken as it is


def test_the_rule_judges_what_the_search_returns_unless_told_otherwise(tmp_path: Path) -> None:
    """judge_ensembles left at None reads as ``ensemble``: the ensemble's configs are judged as
    ensembles, one network's by their restarts; False keeps the restarts under the ensemble; one
    restart has no ensemble to judge; a study in a given storage, which other drivers may share,
    judges the restarts unless told; True with one network is refused (the CLI the same)."""
    from justenough.settings import SearchSettings

    def judged(**given: object) -> tuple[object, bool]:
        read = SearchSettings(space=Space.default(), **given)  # type: ignore[arg-type]
        return read.judge_ensembles, read.judges_ensembles

    assert inspect.signature(search).parameters["judge_ensembles"].default is None
    assert judged() == (True, True)
    assert judged(ensemble=False) == (False, False)
    assert judged(judge_ensembles=False) == (False, False)
    assert judged(n_init=1) == (True, False)
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    assert judged(storage=shared) == (False, False)
    assert judged(storage=shared, judge_ensembles=True) == (True, True)
    with pytest.raises(ConfigError, match="one network: drop one of them"):
        judged(ensemble=False, judge_ensembles=True)
    command = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
    option = next(p for p in command.params if p.name == "judge_ensembles")
    assert option.default is None and set(option.opts + option.secondary_opts) == {"--judge-ensembles", "--judge-restarts"}


def test_search_takes_a_rule_object_and_records_the_rule_as_read(tmp_path: Path) -> None:
    from justenough.select import Rule

    quick = dict(depth="1", widths="4,8", max_epochs=5, n_init=2, workers=1, report=False, cv=1)
    text = search("iris", rule="Tolerance=100%", out=tmp_path / "text", **quick)  # type: ignore[arg-type]
    typed = search("iris", rule=Rule("tolerance", 1.0), out=tmp_path / "typed", **quick)  # type: ignore[arg-type]
    assert text.summary["rule"] == typed.summary["rule"] == "tolerance=1"
    assert text.chosen["key"] == typed.chosen["key"]


def test_search_reads_files_with_the_reading_keywords(tmp_path: Path) -> None:
    rows = "".join(f"{i % 30},{i % 10};c{i % 60};{'ab'[i % 2]}\r\n" for i in range(120))
    path = tmp_path / "eu.csv"
    path.write_text("x;code;y\r\n" + rows, encoding="utf-8")
    out = tmp_path / "run"
    with pytest.raises(DataError, match=r"'code' .* 60 categories, more than `max_categories=50`: raise the limit with `max_categories=100`"):
        search(path, target="y", out=out)
    with pytest.raises(DataError, match=r"'x' .* more than `max_categories=20`: its values are numbers with a decimal comma .*`decimal=\",\"`"):
        search(path, target="y", decimal=".", max_categories=20, out=out)
    with pytest.raises(ConfigError, match="unknown encoding"):
        search(path, target="y", encoding="klingon", out=out)
    assert not out.exists()
    result = search(path, target="y", max_categories=60, depth="1", widths="4", n_init=2, max_epochs=3, workers=1, report=False)
    assert result.model.preprocessor.feature_names_in == ["x", "code"]
    assert "x" in result.model.preprocessor.feature_names_out  # a number, not 30 categories
    frame = pd.DataFrame({"x": [1.5], "code": ["c1"]})
    assert result.model.predict(frame).shape == (1,)
