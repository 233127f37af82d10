"""fgclip's WordNet reader loads the database its own, faster way; what it loads must be what
NLTK's reader loads from the same files."""

from __future__ import annotations

import warnings

import pytest

from fgclip.pipeline.negatives import wordnet


@pytest.fixture(scope="module")
def readers():
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    ours = wordnet.wn()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no multilingual data: not needed here
        nltks = WordNetCorpusReader(ours.root, None)
    return ours, nltks


def test_the_lemma_index_exceptions_and_satellites_are_nltks(readers):
    ours, nltks = readers
    assert type(ours) is not type(nltks) and ours.root == nltks.root
    assert dict(ours._lemma_pos_offset_map) == dict(nltks._lemma_pos_offset_map)
    assert len(ours._lemma_pos_offset_map) > 140_000
    assert ours.satellite_offsets == nltks.satellite_offsets and len(ours.satellite_offsets) > 10_000
    assert ours._exception_map == nltks._exception_map
    assert ours._exception_map["n"]["geese"] == ["goose"]


def test_synsets_read_from_the_data_files_are_nltks(readers):
    ours, nltks = readers
    lemmas = sorted(nltks._lemma_pos_offset_map)[::97]  # about 1,500 lemmas across the alphabet

    def described(reader, lemma):
        return [(s.name(), s.pos(), s.offset(), s.lexname(), s.definition(), s.lemma_names(),
                 [h.name() for h in s.hypernyms()], [lem.key() for lem in s.lemmas()])
                for s in reader.synsets(lemma)]

    for lemma in lemmas:
        assert described(ours, lemma) == described(nltks, lemma), lemma
    assert ours.get_version() == nltks.get_version() == "3.0"
