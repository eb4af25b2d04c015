"""The recipe's dimensions added for issue 26: ``schedule="warmup_cosine"``, ``label_smoothing``
and ``batch_size="auto"`` (resolved once by the training rows): read, checked, keyed, resolved."""

from __future__ import annotations

import math

import pytest

from justenough.errors import ConfigError
from justenough.settings import SearchSettings
from justenough.space.config import Config, member_and_settings
from justenough.space.dims import parse_dim
from justenough.space.search_space import DEFAULT_SPACE_TEXT, DEFAULT_SPACE_VALUES, Space, auto_batch_size
from justenough.vocab import Schedule, Task
from tests.config_recipe import CONFIG_RECIPE


def test_warmup_cosine_is_a_schedule_of_its_own() -> None:
    assert parse_dim("schedule", "constant,warmup_cosine").values == ("constant", "warmup_cosine")
    base = Config(depth=1, widths=(8,))
    warm = Config(depth=1, widths=(8,), schedule=Schedule.WARMUP_COSINE)
    assert warm.key not in (base.key, Config(depth=1, widths=(8,), schedule="cosine").key)
    assert warm.group_key() != base.group_key()  # a schedule is shared by a stack
    assert Config.from_dict(warm.to_dict()) == warm
    with pytest.raises(ConfigError, match="cannot read schedule 'warmup'"):
        parse_dim("schedule", "warmup")


def test_label_smoothing_is_read_checked_and_keyed_only_when_set() -> None:
    assert DEFAULT_SPACE_VALUES["label_smoothing"] == (0.0,) and DEFAULT_SPACE_TEXT["label_smoothing"] == "0"
    assert parse_dim("label_smoothing", "0,0.1").values == (0.0, 0.1)
    assert parse_dim("label_smoothing", "0..0.2").low == 0.0  # a range, for samplers (not log: it starts at 0)
    for bad, why in (("1", "below 1"), ("1.5", "below 1"), ("-0.1", "at least 0"), ("nan", "finite"), ("smooth", "not a number")):
        with pytest.raises(ConfigError, match=why):
            parse_dim("label_smoothing", bad)
    with pytest.raises(ConfigError, match="label_smoothing"):
        Config(depth=1, widths=(8,), label_smoothing=1.0)
    plain = Config(depth=1, widths=(8,))
    smooth = Config(depth=1, widths=(8,), label_smoothing=0.1)
    # At its default the key is the one the config had before the setting existed (a golden
    # value: test_space.py's), and records without it read back at 0.
    assert Config(depth=2, widths=(64, 64)).key == "8935b0ce80c9"
    assert Config.from_dict({k: v for k, v in plain.to_dict().items() if k != "label_smoothing"}) == plain
    assert "label_smoothing" not in plain.to_dict() and smooth.to_dict()["label_smoothing"] == 0.1
    assert smooth.key != plain.key and Config.from_dict(smooth.to_dict()) == smooth
    assert smooth.group_key() != plain.group_key()  # one smoothing per stack (TrainSettings)
    _, settings = member_and_settings(smooth, seed=3)
    assert settings.label_smoothing == 0.1


def test_label_smoothing_is_refused_for_regression() -> None:
    space = Space.from_options(label_smoothing="0,0.1", max_epochs=10)
    assert {c.label_smoothing for c in space.for_task(Task.CLASSIFICATION, n_features=4).configs()} == {0.0, 0.1}
    with pytest.raises(ConfigError, match="label_smoothing 0.0,0.1 smooths class targets.*regression"):
        space.for_task(Task.REGRESSION)
    with pytest.raises(ConfigError, match="smooths class targets"):
        SearchSettings(space=space, task="regression")
    assert SearchSettings(space=Space.from_options(label_smoothing="0"), task="regression").space.label_smoothing.values == (0.0,)
    # While max_epochs is "auto", a smoothed config is a point of the classification space only.
    waiting = Space.from_options(**{**CONFIG_RECIPE, "max_epochs": "auto"}, label_smoothing="0,0.1", depth="1", widths="8")
    assert Config(depth=1, widths=(8,), label_smoothing=0.1, max_epochs=200) in waiting  # classification's budget
    assert Config(depth=1, widths=(8,), label_smoothing=0.1, max_epochs=400) not in waiting  # regression's
    assert Config(depth=1, widths=(8,), max_epochs=400) not in waiting  # a regression search refuses this space


@pytest.mark.parametrize("rows,batch", [(500, 64), (5_000, 64), (50_000, 512), (500_000, 1024),
                                        (1, 64), (11_000, 64), (12_000, 128), (30_000, 256), (65_000, 512), (200_000, 1024)])
def test_auto_batch_size_table(rows: int, batch: int) -> None:
    """The table docs/training.md gives: 64 up to about 11,600 rows, then about 128 steps an epoch."""
    assert auto_batch_size(rows) == batch


def test_auto_batch_size_is_a_power_of_two_that_grows_with_the_rows() -> None:
    previous = 0
    for rows in [1, 2, 100, *range(1_000, 400_000, 997), 10**7]:
        b = auto_batch_size(rows)
        assert 64 <= b <= 1024 and b & (b - 1) == 0 and b >= previous
        # the nearest power of two to rows / 128 on a log scale, within the bounds
        assert abs(math.log2(rows / 128) - math.log2(b)) <= 0.5 or b in (64, 1024)
        previous = b
    for bad in (0, -5, 2.5, True, None):
        with pytest.raises(ConfigError, match="training rows"):
            auto_batch_size(bad)  # type: ignore[arg-type]


def test_batch_size_auto_is_resolved_once_by_the_training_rows() -> None:
    space = Space.from_options(**CONFIG_RECIPE, batch_size="auto", depth="1", widths="8")
    assert parse_dim("batch_size", "auto,32").values == ("auto", 32)
    assert not space.is_resolved
    with pytest.raises(ConfigError, match="batch_size is 'auto'.*n_train"):
        space.for_task(Task.CLASSIFICATION).configs()  # the task alone does not say the rows
    resolved = space.for_task(Task.CLASSIFICATION, n_train=50_000)
    assert resolved.is_resolved and resolved.batch_size.values == (512,)
    assert [c.batch_size for c in resolved.configs()] == [512]
    assert resolved.for_task(Task.CLASSIFICATION, n_train=10) is resolved  # once resolved, the number stays
    assert Space.from_options(batch_size="auto,32").for_task("regression", n_train=500).batch_size.values == (64, 32)
    assert Space.from_options(batch_size="auto,64").for_task("regression", n_train=500).batch_size.values == (64,)
    assert space.size == 1
    # A config is in the unresolved space when some number of rows gives its batch.
    assert Config(depth=1, widths=(8,), batch_size=256) in space
    assert Config(depth=1, widths=(8,), batch_size=100) not in space
    with pytest.raises(ConfigError, match="not 'auto'"):
        Config(depth=1, widths=(8,), batch_size="auto")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="auto cannot bound a range"):
        parse_dim("batch_size", "auto..256")
    # The default space keeps its fixed batch of 64: nothing to resolve there but the embedding.
    assert Space.default().for_task(Task.CLASSIFICATION).batch_size.values == (64,)


def test_a_space_at_the_default_smoothing_keeps_its_fingerprint() -> None:
    """A study made before label_smoothing existed resumes: the space at its default writes no
    label_smoothing entry (so its fingerprint is the old one); any other value is written, read
    back, and makes another fingerprint (a resume with it is refused)."""
    plain, smooth = Space.default(), Space.from_options(label_smoothing="0,0.1")
    assert "label_smoothing" not in plain.to_dict()["dims"] and Space.from_dict(plain.to_dict()) == plain
    assert smooth.to_dict()["dims"]["label_smoothing"] == {"values": [0.0, 0.1]} and Space.from_dict(smooth.to_dict()) == smooth
    assert smooth.fingerprint() != plain.fingerprint()
    assert Space.from_options(label_smoothing="0").fingerprint() == plain.fingerprint()
