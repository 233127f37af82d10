"""The curated lists checked against WordNet: replacements are other things, never the same thing."""

from pathlib import Path

import pytest

from fgclip.pipeline.negatives import lexicon, wordnet
from fgclip.pipeline.negatives.attribute import ATTRIBUTE_OPPOSITES
from fgclip.pipeline.negatives.object import SCENE_PREPOSITIONS
from fgclip.pipeline.negatives.relation import SPATIAL_RELATIONS


def _senses(word):
    return wordnet.wn().synsets(word.replace(" ", "_"), "n")


def _ancestors(synsets):
    found = set(synsets)
    for synset in synsets:
        found.update(synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms()))
    return found


def _known_form(word, other):
    """The word itself, or for a compound WordNet lacks ("stop sign"), its head noun; the
    heads of two such compounds must differ, or the check would compare a word with itself."""
    if _senses(word) or " " not in word:
        return word
    head = word.split(" ")[-1]
    assert head != other.split(" ")[-1], f"{word!r} and {other!r} differ only in a modifier WordNet cannot check"
    return head


@pytest.mark.parametrize("group", lexicon.OBJECT_GROUPS, ids=lambda g: g[0])
def test_object_groups_hold_no_synonym_hypernym_or_hyponym(group):
    for a in group:
        for b in group:
            if a >= b:
                continue
            a, b = _known_form(a, b), _known_form(b, a)
            senses_a, senses_b = _senses(a), _senses(b)
            assert senses_a and senses_b, f"{a!r} or {b!r} unknown to WordNet"
            assert not set(senses_a) & set(senses_b), f"{a} / {b} are synonyms"
            assert not set(senses_b) & _ancestors(senses_a), f"{b} is a hypernym of {a}"
            assert not set(senses_a) & _ancestors(senses_b), f"{a} is a hypernym of {b}"


@pytest.mark.parametrize("word", ["dog", "chair", "guitar", "truck", "spoon", "violin", "shirt"])
def test_wordnet_siblings_share_the_lexicographer_file_and_are_no_synonym_or_hyponym(word):
    sense = wordnet.concrete_sense(word)
    siblings = wordnet.noun_siblings(word)
    assert siblings, word
    own = set(_senses(word))
    for sibling in siblings:
        theirs = _senses(sibling)
        assert theirs[0].lexname() == sense.lexname()
        assert not own & set(theirs)
        assert not set(theirs) & _ancestors(own)
        assert not own & _ancestors(theirs)


def test_attribute_opposites_are_never_the_word_itself():
    for word, opposites in ATTRIBUTE_OPPOSITES.items():
        assert word not in opposites


def test_relation_tables_never_map_a_phrase_to_itself():
    for phrase, replacements in SPATIAL_RELATIONS.items():
        assert " ".join(phrase) not in replacements
    for verb, replacements in {**lexicon.RELATION_VERBS, **lexicon.ACTION_VERBS}.items():
        assert verb not in replacements


@pytest.mark.parametrize("word, plural, base", [
    ("men", True, "man"),  # WordNet also lists "men" as a word of its own
    ("boards", True, "board"),
    ("cows", True, "cow"),
    ("pants", True, "pants"),  # plural only
    ("mice", False, "mouse"),
])
def test_noun_lemma_prefers_the_singular_of_a_plural(word, plural, base):
    assert wordnet.noun_lemma(word, plural) == base


def test_scene_prepositions_cover_the_scene_groups():
    # A place in a group without its prepositions would be offered after any preposition.
    scenes = set(SCENE_PREPOSITIONS)
    for group in lexicon.OBJECT_GROUPS:
        if set(group) & scenes:
            assert set(group) <= scenes, group


def test_wordnet_reader_without_the_multilingual_map_reads_the_same_database():
    """fgclip opens WordNet without NLTK's OMW sense map (2 s per worker); the English data
    it reads must be NLTK's own."""
    from nltk.corpus import wordnet as nltk_wordnet

    ours = wordnet.wn()
    assert ours.get_version() == nltk_wordnet.get_version() == "3.0"
    for lemma in ("dog", "bench", "surfboard", "riding"):
        assert [s.name() for s in ours.synsets(lemma)] == [s.name() for s in nltk_wordnet.synsets(lemma)]
    assert {s.name() for s in ours.synset("dog.n.01").hypernyms()} == {"canine.n.02", "domestic_animal.n.01"}


def test_missing_wordnet_says_how_to_install_it(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(wordnet, "_wordnet", None)
    with pytest.raises(wordnet.WordNetMissing, match="fgclip setup wordnet"):
        wordnet.wn()


def test_zipped_wordnet_gives_the_same_senses_and_counts(tmp_path, monkeypatch):
    """``nltk.download`` can leave WordNet as corpora/wordnet.zip only; the reader and the
    sense counts (read from cntlist.rev) must both work from the zip, with the same values."""
    import shutil

    import nltk

    folder = Path(wordnet.wn().root.path)
    expected_counts = {key: wordnet.count_of(lemma) for key, lemma in
                       ((lemma.key(), lemma) for word in ("dog", "ride", "bench") for lemma in wordnet.wn().lemmas(word))}
    expected_synsets = [s.name() for s in wordnet.wn().synsets("surfboard")]
    assert any(expected_counts.values())

    (tmp_path / "corpora").mkdir()
    shutil.make_archive(str(tmp_path / "corpora" / "wordnet"), "zip", root_dir=folder.parent, base_dir=folder.name)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(wordnet, "_wordnet", None)
    wordnet._sense_counts.cache_clear()
    try:
        assert type(wordnet.wn().root).__name__ == "ZipFilePathPointer"
        assert [s.name() for s in wordnet.wn().synsets("surfboard")] == expected_synsets
        counts = {lemma.key(): wordnet.count_of(lemma) for word in ("dog", "ride", "bench")
                  for lemma in wordnet.wn().lemmas(word)}
        assert counts == expected_counts
    finally:
        wordnet._sense_counts.cache_clear()  # the next test reads the folder again
