import inspect

import pytest
import yaml

from fgclip.config import SWAP_MODES, NegativesConfig, TrainConfig, dump_config, load_config
from fgclip.schema import RULE_NAMES


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "negatives.yaml"
    path.write_text("kinds: [object, relation]\nper_kind: 3\n")
    cfg = load_config(NegativesConfig, path, seed=7)
    assert cfg == NegativesConfig(("object", "relation"), 3, 7)

    dumped = tmp_path / "dumped.yaml"
    dumped.write_text(yaml.safe_dump(dump_config(cfg)))
    assert load_config(NegativesConfig, dumped) == cfg


def test_defaults_and_unset_overrides():
    assert load_config(NegativesConfig) == NegativesConfig()
    assert load_config(NegativesConfig, per_kind=None).per_kind == NegativesConfig().per_kind


def test_empty_file_gives_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(NegativesConfig, path) == NegativesConfig()


def test_unknown_key_names_key_and_file(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("per_knid: 3\n")
    with pytest.raises(ValueError) as err:
        load_config(NegativesConfig, path)
    assert "per_knid" in str(err.value)
    assert str(path) in str(err.value)
    assert "per_kind" in str(err.value)  # lists the valid keys


def test_wrong_type_names_key_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("per_kind: two\n")
    with pytest.raises(ValueError, match="per_kind") as err:
        load_config(NegativesConfig, path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("per_kind", [-1, -5])
def test_invalid_per_kind(per_kind):
    with pytest.raises(ValueError, match="per_kind"):
        NegativesConfig(per_kind=per_kind)
    with pytest.raises(ValueError, match="per_kind"):
        load_config(NegativesConfig, per_kind=per_kind)


@pytest.mark.parametrize("line, message", [
    ("kinds: [object, colour]", "colour"),
    ("swaps: PAPER", "swaps must be one of plausible, paper, got 'PAPER'"),
])
def test_an_invalid_value_in_a_file_names_it_and_the_file(line, message, tmp_path):
    path = tmp_path / "negatives.yaml"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match=message) as err:
        load_config(NegativesConfig, path)
    assert str(path) in str(err.value)


def test_swaps_is_one_of_the_generator_modes():
    assert NegativesConfig().swaps == "plausible" and NegativesConfig(swaps="paper").swaps == "paper"
    with pytest.raises(ValueError, match="swaps must be one of plausible, paper, got 'absurd'"):
        NegativesConfig(swaps="absurd")


def test_skip_rules_are_rule_names(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("shards: s\noutput: o\nskip_rules: [swap-np, replace-rel]\n")
    assert load_config(TrainConfig, path).skip_rules == ("swap-np", "replace-rel")
    assert TrainConfig(shards="s", output="o").skip_rules == ()
    with pytest.raises(ValueError, match="unknown rule\\(s\\) 'swap-objects' in skip_rules; valid rules: replace-rel"):
        TrainConfig(shards="s", output="o", skip_rules=("swap-np", "swap-objects"))


def test_the_light_constants_match_the_generator():
    """The configs, the CLI and the trainer check names against fgclip.schema and fgclip.config,
    which do not import the generator (NLTK, WordNet); these must stay its own names."""
    from fgclip.pipeline import negatives

    assert RULE_NAMES == negatives.RULE_NAMES
    assert set(SWAP_MODES) == set(negatives.SWAP_MODES)
    assert inspect.signature(negatives.negatives).parameters["swaps"].default == SWAP_MODES[0]


@pytest.mark.parametrize("kinds, message", [(("object", "colour"), "unknown negative kind.*'colour'"),
                                            (("object", "object"), "name a kind twice")])
def test_every_config_that_names_kinds_checks_them_alike(kinds, message):
    from fgclip.config import BuildConfig
    from fgclip.trainer.stream import StreamSettings

    makers = {
        "negatives": lambda: NegativesConfig(kinds=kinds),
        "build": lambda: BuildConfig(input="in.jsonl", output="out", kinds=kinds),
        "train": lambda: TrainConfig(shards="s", output="o", kinds=kinds),
        "stream": lambda: StreamSettings(batch_size=2, kinds=kinds),
    }
    for name, make in makers.items():
        with pytest.raises(ValueError, match=message):
            make()
    # Build and train need at least one kind, and say what to use instead.
    with pytest.raises(ValueError, match="no_negatives"):
        BuildConfig(input="in.jsonl", output="out", kinds=())
    with pytest.raises(ValueError, match="no_hard_negatives"):
        TrainConfig(shards="s", output="o", kinds=())
