"""The search space: CLI forms, the grid, configs, Optuna round trips, JSON round trips."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import optuna
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from justenough.errors import ConfigError
from justenough.space.config import Config
from justenough.nets.activations import AUTO_INIT
from justenough.space.dims import Dim, split_list, parse_dim
from tests.config_recipe import CONFIG_RECIPE
from justenough.space.search_space import AUTO_EMBED_MAX_INPUTS, DEFAULT_MAX_EPOCHS, Space, auto_embed, auto_embed_notice
from justenough.vocab import Task

optuna.logging.set_verbosity(optuna.logging.WARNING)


# --- parse_dim ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "values"),
    [
        ("depth", "1-3", (1, 2, 3)),
        ("depth", "2", (2,)),
        ("depth", "1,3", (1, 3)),
        ("depth", " 3 , 1 ", (1, 3)),  # sorted: the grid goes from small to large
        ("widths", "8,16,32", (8, 16, 32)),
        ("widths", "32,8,8", (8, 32)),  # duplicates once
        ("lr", "1e-3", (1e-3,)),
        ("lr", "1e-3,3e-3", (1e-3, 3e-3)),
        ("weight_decay", "0", (0.0,)),
        ("patience", "none", (None,)),
        ("patience", "5,none", (5, None)),
        ("activation", "ReLU, tanh,linear", ("relu", "tanh", "identity")),
        ("optimizer", "adam,sgd", ("adam", "sgd")),
        ("shape", "same,funnel", ("same", "funnel")),
        ("epochs", "50", (50,)),  # alias of max_epochs
        ("batch_size", "32,128", (32, 128)),
    ],
)
def test_parse_dim_listed_forms(name: str, text: str, values: tuple) -> None:
    dim = parse_dim(name, text)
    assert dim.values == values
    assert dim.is_finite
    assert dim.is_fixed == (len(values) == 1)


def test_parse_dim_ranges() -> None:
    lr = parse_dim("lr", "1e-4..1e-2")
    assert (lr.values, lr.low, lr.high, lr.log) == (None, 1e-4, 1e-2, True)
    assert not lr.is_finite
    widths = parse_dim("widths", "8..256")
    assert (widths.low, widths.high, widths.log) == (8, 256, True)
    depth = parse_dim("depth", "1..4")
    assert (depth.low, depth.high, depth.log) == (1, 4, False)
    # Weight decay may start at 0, then only a linear range makes sense.
    wd = parse_dim("weight_decay", "0..1e-3")
    assert (wd.low, wd.log) == (0.0, False)
    assert parse_dim("lr", "1e-3..1e-3").values == (1e-3,)  # an empty range is one value


def test_parse_dim_keeps_parenthesized_init_specs_whole() -> None:
    dim = parse_dim("init", "auto, Normal(std = 0.01),orthogonal(gain=1.0)")
    assert len(dim.values) == 3
    assert dim.values[0] == "auto"
    assert dim.values[1].startswith("normal(") and " " not in dim.values[1]
    assert dim.values[2].startswith("orthogonal(")
    # Commas inside parentheses separate a scheme's arguments, not list items.
    assert split_list("auto,uniform(low=-0.1,high=0.1), he_normal") == ["auto", "uniform(low=-0.1,high=0.1)", "he_normal"]


def test_parse_dim_accepts_python_values() -> None:
    assert parse_dim("depth", 2).values == (2,)
    assert parse_dim("widths", [64, 16]).values == (16, 64)
    assert parse_dim("depth", range(1, 4)).values == (1, 2, 3)
    assert parse_dim("lr", 0.01).values == (0.01,)
    assert parse_dim("patience", None).values == (None,)
    dim = parse_dim("lr", "1e-4..1e-2")
    assert parse_dim("lr", dim) == dim


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("lr", "abc", "1e-4..1e-2"),
        ("lr", "0", "greater than 0"),
        ("lr", "-1e-3", "greater than 0"),
        ("lr", "1e-2..1e-4", "low end"),
        ("lr", "1..2..3", "low..high"),
        ("depth", "-1", "at least 0"),  # 0 is a linear model (no hidden layer)
        ("depth", "3-1", "low end"),
        ("depth", "1.5", "whole number"),
        ("depth", "x", '"1-3"'),
        ("widths", "", "empty"),
        ("activation", "swish", "relu"),
        ("optimizer", "lbfgs", "adam"),
        ("shape", "pyramid", "funnel"),
        ("patience", "0", "at least 1"),
        ("init", "he normal!", "scheme spec"),
        ("weight_decay", "-1", "at least 0"),
    ],
)
def test_parse_dim_bad_text_raises_config_error_with_an_example(name: str, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_dim(name, text)
    message = str(info.value)
    assert fragment in message
    assert "write e.g." in message


def test_unknown_dimension_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="depth.*widths"):
        parse_dim("dropout", "0.1")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4096), min_size=1, max_size=6))
def test_dim_text_round_trips_listed_ints(widths: list[int]) -> None:
    dim = parse_dim("widths", widths)
    assert parse_dim("widths", dim.text()) == dim
    assert Dim.from_dict("widths", json.loads(json.dumps(dim.to_dict()))) == dim


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=1e-8, max_value=10.0, allow_nan=False),
    st.floats(min_value=1e-8, max_value=10.0, allow_nan=False),
)
def test_dim_text_round_trips_float_ranges(a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    dim = parse_dim("lr", f"{lo!r}..{hi!r}")
    assert parse_dim("lr", dim.text()) == dim


# --- the default space and the grid ---------------------------------------------------------------


def test_a_config_built_with_its_defaults_trains_the_recipe_before_2026_12_07() -> None:
    # Config's field defaults (config.py) are the old default recipe, which keys and records keep
    # (tests/config_recipe.py names them); the default space differs from them in exactly the
    # settings of docs/training.md, "The default recipe with the embedding where the inputs are few".
    cfg = Config(depth=1, widths=(8,))
    assert cfg in Space.from_options(**CONFIG_RECIPE).for_task(Task.CLASSIFICATION, n_features=30)
    old = Space.from_options(**CONFIG_RECIPE)
    for name in ("lr", "max_epochs", "patience", "monitor", "schedule", "embed"):
        assert getattr(old, name).values == (getattr(cfg, name),), name
    default = Space.default().for_task(Task.CLASSIFICATION, n_features=30)
    assert cfg not in default
    (plain,) = [c for c in default.configs() if c.label == "1x8"]
    changed = {f.name for f in dataclasses.fields(Config) if getattr(plain, f.name) != getattr(cfg, f.name)}
    assert changed == {"lr", "patience", "monitor", "schedule"}
    assert (plain.lr, plain.patience, plain.monitor, plain.schedule, plain.max_epochs) == (1e-2, 30, "val_score", "warmup_cosine", 200)


def test_default_space_is_the_linear_model_and_depth_1_to_3_by_seven_widths() -> None:
    space = Space.default().for_task(Task.CLASSIFICATION, n_features=AUTO_EMBED_MAX_INPUTS + 1)
    assert space.is_finite
    configs = space.configs()
    assert space.size == len(configs) == 1 + 3 * 7
    linear = configs[0]
    assert (linear.label, linear.depth, linear.widths, linear.activation) == ("linear", 0, (), "identity")
    assert [c.label for c in configs[1:8]] == ["1x4", "1x8", "1x16", "1x32", "1x64", "1x128", "1x256"]
    assert [(c.depth, c.widths[0] if c.widths else 0) for c in configs] == sorted(
        (c.depth, c.widths[0] if c.widths else 0) for c in configs)
    first = configs[1]
    assert (first.activation, first.init, first.optimizer) == ("relu", "he_normal", "adam")
    for c in (linear, first):
        assert (c.lr, c.weight_decay, c.batch_size, c.max_epochs, c.patience) == (1e-2, 0.0, 64, 200, 30)
        assert (c.monitor, c.schedule, c.embed) == ("val_score", "warmup_cosine", "none")
    assert linear.init == "he_normal"  # resolved from the listed activation, relu, before it became identity
    assert len({c.key for c in configs}) == len(configs)
    # Few inputs: each of the 22 architectures with and without the periodic embedding, as the
    # unresolved default space counts itself.
    narrow = Space.default().for_task(Task.CLASSIFICATION, n_features=AUTO_EMBED_MAX_INPUTS).configs()
    assert len(narrow) == Space.default().size == 2 * len(configs)
    assert [c.label for c in narrow if c.embed == "periodic"] == [c.label + "+periodic" for c in configs]


def test_the_auto_epoch_budget_is_the_tasks() -> None:
    # max_epochs "auto" waits for the task: 200 epochs for classification, 400 for regression
    # (docs/training.md, "The epoch budget, by task"); nothing else differs between the two. It
    # was the default space's budget before 2026-12-07; the default is now 200 for both.
    assert Space.default().max_epochs.values == (200,)
    space = Space.from_options(**{**CONFIG_RECIPE, "max_epochs": "auto"})
    assert space.max_epochs.values == ("auto",) and not space.is_resolved
    with pytest.raises(ConfigError, match="for_task"):
        space.configs()
    by_task = {task: space.for_task(task) for task in Task}
    assert {task: s.max_epochs.values for task, s in by_task.items()} == {
        Task.CLASSIFICATION: (DEFAULT_MAX_EPOCHS[Task.CLASSIFICATION],), Task.REGRESSION: (DEFAULT_MAX_EPOCHS[Task.REGRESSION],)}
    assert DEFAULT_MAX_EPOCHS == {Task.CLASSIFICATION: 200, Task.REGRESSION: 400}
    classify, regress = (by_task[t].configs() for t in (Task.CLASSIFICATION, Task.REGRESSION))
    assert [c.max_epochs for c in regress] == [400] * len(classify)
    assert [dataclasses.replace(c, max_epochs=200) for c in regress] == classify
    assert by_task[Task.REGRESSION].is_resolved and space.for_task("regression") == by_task[Task.REGRESSION]
    assert space.configs(task=Task.REGRESSION) == regress
    # A config of either task's budget is a point of the unresolved space; another budget is not.
    assert Config(depth=1, widths=(8,)) in space and Config(depth=1, widths=(8,), max_epochs=400) in space
    assert Config(depth=1, widths=(8,), max_epochs=300) not in space
    assert Config(depth=1, widths=(8,), max_epochs=400) not in by_task[Task.CLASSIFICATION]
    with pytest.raises(ConfigError, match="for_task"):
        space.grid_params(classify[0])
    with pytest.raises(ConfigError, match="for_task"):
        space.suggest(optuna.create_study().ask())


def test_auto_max_epochs_reads_lists_and_leaves_numbers_alone() -> None:
    assert parse_dim("max_epochs", "AUTO").values == ("auto",)
    assert parse_dim("max_epochs", "auto,800").values == ("auto", 800)
    assert Space.from_options(max_epochs="auto,800").for_task("regression").max_epochs.values == (400, 800)
    # Listed next to the number it becomes, it counts once.
    assert Space.from_options(max_epochs="auto,200", depth="1", widths="8", embed="none").for_task("classification").size == 1
    explicit = Space.from_options(max_epochs=50, embed="none")
    assert explicit.is_resolved and explicit.for_task("regression") is explicit
    assert Space.from_options(max_epochs="50..300").for_task("regression").max_epochs.low == 50
    with pytest.raises(ConfigError, match="auto cannot bound a range"):
        parse_dim("max_epochs", "auto..300")
    with pytest.raises(ConfigError, match="patience"):
        parse_dim("patience", "auto")  # only the epoch budget has an "auto"
    with pytest.raises(ConfigError, match="for_task"):
        Config(depth=1, widths=(8,), max_epochs="auto")  # type: ignore[arg-type]  # a config trains a number


def test_grid_order_is_depth_then_width_then_the_rest() -> None:
    space = Space.from_options(depth="2,1", widths="16,8", lr="1e-2,1e-3", embed="none").for_task(Task.CLASSIFICATION)
    got = [(c.depth, c.widths[0], c.lr) for c in space.configs()]
    assert got == [
        (1, 8, 1e-2), (1, 8, 1e-3), (1, 16, 1e-2), (1, 16, 1e-3),
        (2, 8, 1e-2), (2, 8, 1e-3), (2, 16, 1e-2), (2, 16, 1e-3),
    ]


@pytest.mark.parametrize("activation", sorted(AUTO_INIT))
def test_auto_init_resolves_by_activation(activation: str) -> None:
    (cfg,) = Space.from_options(depth="1", widths="8", activation=activation, embed="none").configs(task=Task.REGRESSION)
    expected = {"relu": "he_normal", "leaky_relu": "he_normal", "gelu": "he_normal", "tanh": "glorot_uniform",
                "sigmoid": "glorot_uniform", "identity": "glorot_uniform", "selu": "lecun_normal"}[activation]
    assert cfg.init == expected


def test_funnel_halves_the_width_down_to_four() -> None:
    space = Space.from_options(depth="1-3", widths="8,64", shape="same,funnel", embed="none").for_task(Task.CLASSIFICATION)
    widths = {c.widths for c in space.configs()}
    assert (64, 32, 16) in widths and (64, 32) in widths
    assert (8, 4, 4) in widths  # halving stops at 4
    assert (64, 64, 64) in widths
    # A depth-1 funnel is the same network as a depth-1 same-width one, and a funnel from 8 at
    # depth 2 is (8, 4): the grid holds each distinct network once.
    configs = space.configs()
    assert len(configs) == len({c.key for c in configs}) == space.size
    assert sum(c.depth == 1 for c in configs) == 2
    assert Config.create(depth=3, width=64, shape="funnel").label == "3x[64,32,16]"


def test_depth_zero_is_one_linear_config_whatever_the_widths() -> None:
    """No hidden layer: the widths and shapes of the space make the same network, listed once."""
    space = Space.from_options(depth="0-1", widths="8,16", shape="same,funnel", embed="none").for_task(Task.CLASSIFICATION)
    assert [c.label for c in space.configs()] == ["linear", "1x8", "1x16"]
    linear = space.configs()[0]
    assert linear.widths == () and linear.params(10, 3) == 10 * 3 + 3
    assert space.size == 3
    # It has no activation either: listed activations give one linear model per init they lead to.
    fixed_init = Space.from_options(depth="0-1", widths="8", activation="relu,tanh", init="orthogonal", embed="none").for_task(Task.CLASSIFICATION)
    assert [(c.label, c.activation) for c in fixed_init.configs()] == [("linear", "identity"), ("1x8", "relu"), ("1x8", "tanh")]
    auto = Space.from_options(depth="0", widths="8", activation="relu,tanh", embed="none").for_task(Task.CLASSIFICATION)
    assert [(c.activation, c.init) for c in auto.configs()] == [("identity", "he_normal"), ("identity", "glorot_uniform")]


def test_infinite_space_has_no_grid() -> None:
    space = Space.from_options(lr="1e-4..1e-2")
    assert not space.is_finite
    assert space.size == math.inf
    with pytest.raises(ConfigError, match="lr"):
        space.configs()


def test_from_options_defaults_aliases_and_patience_none() -> None:
    space = Space.from_options(depth=None, width="16", epochs=30, batch=32, patience=None, embed="none")
    assert space.depth == Space.default().depth  # None keeps the default
    assert space.widths.values == (16,)
    assert space.max_epochs.values == (30,)
    assert space.batch_size.values == (32,)
    assert space.patience.values == (None,)  # None turns early stopping off
    assert all(c.patience is None for c in space.configs())
    with pytest.raises(ConfigError, match="unknown search-space option 'dropout'"):
        Space.from_options(dropout="0.1")
    with pytest.raises(ConfigError, match="twice"):
        Space.from_options(widths="8", width="16")


def test_invalid_init_is_refused_by_the_space() -> None:
    with pytest.raises(ConfigError):
        Space.from_options(init="he normal")


# --- Config ------------------------------------------------------------------------------------------


def test_config_key_is_a_stable_hash_of_the_settings() -> None:
    cfg = Config(depth=2, widths=(64, 64))
    # Settings added after 0.1 (monitor, schedule) are left out of the hash at their defaults.
    settings = {k: v for k, v in cfg.to_dict().items() if k not in ("monitor", "schedule")}
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    assert cfg.key == hashlib.sha256(canonical.encode()).hexdigest()[:12]
    # The same settings written differently give the same key.
    assert Config(depth=2, widths=[64, 64], lr=0.001, weight_decay=0, init="auto").key == cfg.key
    assert Config(depth=2.0, widths=(64.0, 64), lr=1e-3).key == cfg.key  # type: ignore[arg-type]
    # A golden value: keys are stored in studies and run directories, so they must never drift.
    assert cfg.to_dict() == {
        "depth": 2, "widths": [64, 64], "activation": "relu", "init": "he_normal", "optimizer": "adam",
        "lr": 0.001, "weight_decay": 0.0, "batch_size": 64, "max_epochs": 200, "patience": 10,
        "monitor": "val_loss", "schedule": "constant",
    }
    assert cfg.key == "8935b0ce80c9"
    score = Config(depth=2, widths=(64, 64), monitor="val_score")
    assert score.key != cfg.key and Config.from_dict(score.to_dict()) == score
    assert Config.from_dict({k: v for k, v in cfg.to_dict().items() if k not in ("monitor", "schedule")}) == cfg  # 0.1 records
    with pytest.raises(ConfigError, match="monitor"):
        Config(depth=1, widths=(8,), monitor="accuracy")
    cosine = Config(depth=2, widths=(64, 64), schedule="cosine")
    assert cosine.key not in (cfg.key, score.key) and Config.from_dict(cosine.to_dict()) == cosine
    assert cosine.group_key() != cfg.group_key()  # a schedule is shared by a stack
    with pytest.raises(ConfigError, match="schedule"):
        Config(depth=1, widths=(8,), schedule="linear")
    assert Config(depth=2, widths=(64, 64), lr=3e-3).key != cfg.key
    assert Config(depth=2, widths=(64, 32)).key != cfg.key


def test_config_labels() -> None:
    assert Config(depth=0, widths=()).label == "linear"
    assert Config(depth=2, widths=(64, 64)).label == "2x64"
    assert Config(depth=1, widths=(8,)).label == "1x8"
    assert Config(depth=3, widths=(64, 32, 16)).label == "3x[64,32,16]"


def test_config_rejects_inconsistent_settings() -> None:
    with pytest.raises(ConfigError, match="one width per layer"):
        Config(depth=2, widths=(8,))
    with pytest.raises(ConfigError, match="greater than 0"):
        Config(depth=1, widths=(8,), lr=0.0)
    with pytest.raises(ConfigError):
        Config(depth=1, widths=(8,), activation="swish")


@pytest.mark.parametrize("widths", [(4,), (64, 64), (64, 32, 16), (7, 300)])
def test_params_and_flops_match_a_torch_network(widths: tuple[int, ...]) -> None:
    n_in, n_out = 13, 5
    cfg = Config(depth=len(widths), widths=widths)
    sizes = [n_in, *widths, n_out]
    layers = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    assert cfg.params(n_in, n_out) == sum(p.numel() for layer in layers for p in layer.parameters())
    # One forward pass per sample: one multiply and one add per weight.
    assert cfg.flops(n_in, n_out) == 2 * sum(layer.weight.numel() for layer in layers)


def test_group_key_is_what_a_stack_shares() -> None:
    a = Config(depth=2, widths=(8, 8), lr=1e-3, init="he_normal")
    b = Config(depth=2, widths=(64, 32), lr=1e-2, init="glorot_uniform", weight_decay=1e-4)
    assert a.group_key() == b.group_key() == (2, "relu", "adam", 64, 200, 10, "val_loss", "constant", "none", 0.0)
    assert Config(depth=2, widths=(8, 8), batch_size=32).group_key() != a.group_key()
    assert Config(depth=2, widths=(8, 8), monitor="val_score").group_key() != a.group_key()
    assert Config(depth=2, widths=(8, 8), activation="tanh").group_key() != a.group_key()


def test_config_json_round_trip_and_tamper_check() -> None:
    cfg = Config(depth=3, widths=(64, 32, 16), activation="tanh", lr=3e-4, patience=None)
    d = json.loads(json.dumps({**cfg.to_dict(), "key": cfg.key, "label": cfg.label}))
    assert Config.from_dict(d) == cfg
    with pytest.raises(ConfigError, match="does not match"):
        Config.from_dict({**d, "lr": 1e-3})
    with pytest.raises(ConfigError, match="lacks"):
        Config.from_dict({"depth": 1})


# --- Space JSON and fingerprint --------------------------------------------------------------------


def test_space_json_round_trip_and_fingerprint() -> None:
    space = Space.from_options(depth="1-3", widths="8..256", lr="1e-4..1e-2", patience="5,none", shape="same,funnel")
    again = Space.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space
    assert again.fingerprint() == space.fingerprint()
    assert len(space.fingerprint()) == 64
    assert Space.from_options(depth="1-2").fingerprint() != Space.from_options(depth="1-3").fingerprint()
    # The same space written two ways is the same space.
    assert Space.from_options(depth="1,2,3").fingerprint() == Space.from_options(depth="1-3").fingerprint()
    with pytest.raises(ConfigError):
        Space.from_dict({"version": 99, "dims": {}})


# --- Optuna ------------------------------------------------------------------------------------------


def test_grid_params_make_suggest_return_each_grid_config(tmp_path) -> None:
    """Enqueue every grid config through a real SQLite study; suggest() must give it back exactly."""
    space = Space.from_options(
        depth="0-2", widths="8,16", shape="same,funnel", activation="relu,tanh", init="auto,he_normal",
        lr="1e-3,3e-3", patience="5,none", embed="none",
    ).for_task(Task.REGRESSION)
    configs = space.configs()
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    for cfg in configs:
        study.enqueue_trial(space.grid_params(cfg))
    got = []
    for _ in configs:
        trial = study.ask()
        got.append(space.suggest(trial))
        study.tell(trial, 0.0)
    assert got == configs
    # Fixed dimensions are not Optuna parameters.
    assert set(space.grid_params(configs[0])) == {"depth", "width", "shape", "activation", "init", "lr", "patience"}


def test_suggest_samples_inside_ranges() -> None:
    space = Space.from_options(depth="1..3", widths="4..256", lr="1e-4..1e-2", batch_size="16..128").for_task(
        Task.CLASSIFICATION, n_features=30)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(30):
        trial = study.ask()
        cfg = space.suggest(trial)
        assert 1 <= cfg.depth <= 3 and 4 <= cfg.widths[0] <= 256
        assert 1e-4 <= cfg.lr <= 1e-2 and 16 <= cfg.batch_size <= 128
        assert cfg in space
        assert trial.distributions["lr"].log and trial.distributions["width"].log
        assert not trial.distributions["depth"].log
        study.tell(trial, 0.0)


def test_grid_params_refuses_a_config_outside_the_space() -> None:
    space = Space.from_options(**CONFIG_RECIPE, depth="1", widths="8,16").for_task(Task.CLASSIFICATION)
    with pytest.raises(ConfigError, match="outside"):
        space.grid_params(Config(depth=1, widths=(32,)))
    with pytest.raises(ConfigError, match="shape"):
        space.grid_params(Config(depth=2, widths=(16, 8)))
    assert Config(depth=1, widths=(8,)) in space
    assert Config(depth=1, widths=(32,)) not in space


# --- the embed dimension (nets/periodic.py) -----------------------------------------------------


def test_embed_dimension_keeps_default_keys_and_fingerprint_and_counts_the_embedding() -> None:
    plain = Config(depth=2, widths=(16, 8))
    assert plain.embed == "none" and "embed" not in plain.to_dict()  # the record it had before embeddings
    # At "none" the key is the hash without the embed setting (the key configs had before it).
    settings = {k: v for k, v in plain.to_dict().items() if k not in ("monitor", "schedule")}
    assert plain.key == hashlib.sha256(json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:12]
    emb = Config(depth=2, widths=(16, 8), embed="periodic")
    assert emb.to_dict()["embed"] == "periodic"
    assert emb.key != plain.key and Config.from_dict({**emb.to_dict(), "key": emb.key}) == emb
    assert emb.label == "2x[16,8]+periodic" and Config(depth=0, widths=(), embed="periodic").label == "linear+periodic"
    assert plain.label == "2x[16,8]" and Config(depth=1, widths=(64,), embed="periodic").label == "1x64+periodic"
    K = 8
    assert emb.params(5, 3) == (5 * (1 + K)) * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3 + 2 * 5 * K
    assert emb.params(5, 3) - plain.params(5, 3) == 5 * K * 16 + 2 * 5 * K
    assert emb.flops(5, 3) > plain.flops(5, 3)
    assert emb.group_key() != plain.group_key()  # one stack holds one embedding
    with pytest.raises(ConfigError, match="embed"):
        Config(depth=1, widths=(4,), embed="fourier")


def test_embed_auto_is_both_where_the_inputs_are_few_and_none_above() -> None:
    """``embed="auto"`` waits for the encoded inputs (``for_task(n_features=...)``): none and
    periodic up to ``AUTO_EMBED_MAX_INPUTS`` inputs, none alone above; listed beside another
    value, each comes once."""
    space = Space.from_options(**{**CONFIG_RECIPE, "embed": "auto"}, depth="1", widths="8")
    assert space.embed.values == ("auto",) and not space.is_resolved
    assert Space.default().embed.values == ("auto",)  # the default (docs/training.md)
    with pytest.raises(ConfigError, match="embed is 'auto'.*n_features"):
        space.for_task("classification").configs()  # the task alone does not say the inputs
    narrow = space.for_task("classification", n_features=AUTO_EMBED_MAX_INPUTS)
    wide = space.for_task("classification", n_features=AUTO_EMBED_MAX_INPUTS + 1)
    assert narrow.is_resolved and [c.label for c in narrow.configs()] == ["1x8", "1x8+periodic"]
    assert wide.is_resolved and [c.label for c in wide.configs()] == ["1x8"]
    assert auto_embed(1) == ("none", "periodic") and auto_embed(10_000) == ("none",)
    assert Space.from_options(embed="periodic,auto").for_task("regression", n_features=1).embed.values == ("periodic", "none")
    assert Space.from_options(embed="auto,periodic").for_task("regression", n_features=500).embed.values == ("none", "periodic")
    # Unresolved, the space holds either; it counts as the narrow table's (the most configs).
    assert Config(depth=1, widths=(8,), max_epochs=200, embed="periodic") in space
    assert space.size == 2
    plain = Space.from_options(**CONFIG_RECIPE, depth="1", widths="8")
    assert Space.from_dict(space.to_dict()) == space and space.fingerprint() != plain.fingerprint()
    assert "more than" in auto_embed_notice(500) and "with and without" in auto_embed_notice(3)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="inputs"):
            auto_embed(bad)  # type: ignore[arg-type]


def test_space_lists_embed_and_leaves_the_default_out_of_its_fingerprint() -> None:
    space = Space.from_options(depth="1", widths="8", embed="none,periodic").for_task("classification")
    configs = space.configs()
    assert [c.embed for c in configs] == ["none", "periodic"]
    assert all(c in space for c in configs)
    assert Space.from_dict(space.to_dict()) == space
    assert space.fingerprint() != Space.from_options(depth="1", widths="8").for_task("classification").fingerprint()
    # A study made before embed existed (with the old default recipe, tests/config_recipe.py) resumes.
    assert "embed" not in Space.from_options(**CONFIG_RECIPE).to_dict()["dims"]
    assert Space.from_dict(Space.default().to_dict()) == Space.default()
    with pytest.raises(ConfigError, match="embed"):
        Space.from_options(embed="fourier")
