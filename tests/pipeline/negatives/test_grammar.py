import pytest

from fgclip.pipeline.negatives.grammar import indefinite_article, inflect_verb, match_case, pluralize


@pytest.mark.parametrize("word, article", [
    ("apple", "an"), ("banana", "a"), ("umbrella", "an"), ("hour", "an"), ("honest", "an"),
    ("unicorn", "a"), ("urinal", "a"), ("one-way", "a"), ("european", "a"), ("8-year-old", "an"), ("11", "an"),
    ("2", "a"), ("SUV", "an"), ("TV", "a"), ("orange", "an"), ("yellow", "a"), ("Elephant", "an"),
])
def test_indefinite_article(word, article):
    assert indefinite_article(word) == article


@pytest.mark.parametrize("noun, plural", [
    ("dog", "dogs"), ("bus", "buses"), ("box", "boxes"), ("sandwich", "sandwiches"), ("berry", "berries"),
    ("toy", "toys"), ("knife", "knives"), ("man", "men"), ("woman", "women"), ("human", "humans"),
    ("sheep", "sheep"), ("tomato", "tomatoes"), ("fire hydrant", "fire hydrants"), ("Dog", "Dogs"),
])
def test_pluralize(noun, plural):
    assert pluralize(noun) == plural


def test_pluralize_takes_irregular_table_first():
    assert pluralize("mouse", {"mouse": "mice"}) == "mice"
    assert pluralize("teddy mouse", {"mouse": "mice"}) == "teddy mice"


@pytest.mark.parametrize("lemma, tag, form", [
    ("ride", "VBG", "riding"), ("sit", "VBG", "sitting"), ("lie", "VBG", "lying"), ("ski", "VBG", "skiing"),
    ("open", "VBG", "opening"), ("visit", "VBG", "visiting"), ("see", "VBG", "seeing"), ("fix", "VBG", "fixing"),
    ("feed", "VBZ", "feeds"), ("catch", "VBZ", "catches"), ("fly", "VBZ", "flies"), ("go", "VBZ", "goes"),
    ("drop", "VBD", "dropped"), ("carry", "VBN", "carried"), ("bake", "VBD", "baked"), ("play", "VBD", "played"),
    ("sit", "VBP", "sit"), ("look at", "VBG", "looking at"),
])
def test_inflect_verb(lemma, tag, form):
    assert inflect_verb(lemma, tag) == form


def test_inflect_verb_irregular_past_and_bad_tag():
    table = {"throw": ("threw", "thrown")}
    assert inflect_verb("throw", "VBD", table) == "threw"
    assert inflect_verb("throw", "VBN", table) == "thrown"
    with pytest.raises(ValueError):
        inflect_verb("throw", "NN")


@pytest.mark.parametrize("template, word, result", [
    ("DOG", "cat", "CAT"), ("Dog", "cat", "Cat"), ("dog", "cat", "cat"), ("A", "two", "Two"), ("a", "two", "two"),
])
def test_match_case(template, word, result):
    assert match_case(template, word) == result
