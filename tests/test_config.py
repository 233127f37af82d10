import pytest
import yaml

from fgclip.config import NegativesConfig, dump_config, load_config


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "negatives.yaml"
    path.write_text("kinds: [object, relation]\nrules: [replace-obj, swap-obj]\nper_kind: 3\n")
    cfg = load_config(NegativesConfig, path, seed=7)
    assert cfg == NegativesConfig(("object", "relation"), ("replace-obj", "swap-obj"), 3, 7)

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


def test_unknown_kind_in_file(tmp_path):
    path = tmp_path / "kinds.yaml"
    path.write_text("kinds: [object, colour]\n")
    with pytest.raises(ValueError, match="colour") as err:
        load_config(NegativesConfig, path)
    assert str(path) in str(err.value)
