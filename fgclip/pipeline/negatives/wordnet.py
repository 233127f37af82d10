"""WordNet look-ups the rules need, loaded once per process and cached per word.

NLTK's reader opens the database lazily; the first look-up here forces it and records the time
in :data:`load_seconds`. Every function is memoised: captions repeat their vocabulary, so after
the first few thousand captions nearly every call is a dictionary hit.
"""

from __future__ import annotations

import threading
import time
import warnings
from functools import lru_cache

from . import lexicon

# Lexicographer files of things one can see in a picture.
CONCRETE_NOUN_FILES = frozenset({
    "noun.animal", "noun.artifact", "noun.food", "noun.plant", "noun.object", "noun.body",
    "noun.person",
})
# Verbs of bodily action only: siblings in verb.communication or verb.cognition ("speaking" ->
# "asking") rarely make a fluent caption.
ACTION_VERB_FILES = frozenset({
    "verb.motion", "verb.contact", "verb.consumption", "verb.competition", "verb.body",
})
MIN_VERB_SENSE_COUNT = 5
MIN_SENSE_COUNT = 3  # sense-tagged corpus frequency (cntlist): keeps replacements common words

_lock = threading.Lock()
_wordnet = None
load_seconds: dict[str, float] = {}


class WordNetMissing(RuntimeError):
    pass


def wn():
    """The NLTK WordNet reader, loaded on first use; raises WordNetMissing with how to fix it."""
    global _wordnet
    if _wordnet is None:
        with _lock:
            if _wordnet is None:
                start = time.perf_counter()
                _wordnet = _open_english_wordnet()
                _wordnet.synsets("dog")  # forces the lemma index into memory
                load_seconds["wordnet"] = time.perf_counter() - start
    return _wordnet


def _open_english_wordnet():
    """NLTK's WordNet 3.0 reader without the Open Multilingual WordNet mapping.

    ``nltk.corpus.wordnet`` builds, at load, a map from WordNet 3.0 sense keys to the loaded
    version's synsets for OMW's translations: it reads ``index.sense`` twice, 2.1 of the 3.1
    seconds the load took here, in every worker process. The rules only read English lemmas and
    relations, which that map never touches.
    """
    import nltk

    try:
        root = nltk.data.find("corpora/wordnet")
    except LookupError:
        try:
            root = nltk.data.find("corpora/wordnet.zip/wordnet/")
        except LookupError as err:
            raise WordNetMissing(
                "WordNet 3.0 for NLTK was not found on nltk.data.path "
                f"({', '.join(nltk.data.path[:4])}, ...). Install it with `fgclip setup wordnet` "
                "(or `make setup`), or point NLTK_DATA at a folder holding corpora/wordnet."
            ) from err
    with warnings.catch_warnings():
        # "The multilingual functions are not available": none is used.
        warnings.simplefilter("ignore", UserWarning)
        return _english_wordnet_class()(root, None)


@lru_cache(maxsize=1)
def _english_wordnet_class():
    """NLTK's WordNetCorpusReader, loading faster, with the same content.

    NLTK reads the database files through its seekable Unicode stream reader, which decodes in
    Python a line at a time. Loading the lemma index that way took 2.3 of the 2.5 seconds each
    worker spent starting, and each synset first met is a seek and a line read through it. Here
    each index, exception and adjective file is read whole and split, and the data files are read
    in binary and decoded a line at a time. The parsing is the same: a test compares the loaded
    maps and synsets with NLTK's own reader's.
    """
    from nltk.corpus.reader.wordnet import ADJ, ADJ_SAT, WordNetCorpusReader, WordNetError

    class EnglishWordNet(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None

        def _lines(self, fileid: str) -> list[str]:
            with self.root.join(fileid).open() as handle:  # binary: no encoding given
                return handle.read().decode(self._ENCODING).split("\n")

        def _scan_satellites(self):
            # data.adj: "offset lex_filenum ss_type ...": ss_type "s" marks a satellite adjective
            self.satellite_offsets = {
                int(fields[0]) for fields in (line.split() for line in self._lines("data.adj") if line[:1].strip())
                if len(fields) >= 3 and fields[2] == "s"
            }

        def _load_lemma_pos_offset_map(self):
            for suffix in self._FILEMAP.values():
                fileid = f"index.{suffix}"
                for number, line in enumerate(self._lines(fileid), 1):
                    if not line[:1].strip():
                        continue  # the licence's lines start with a space; the file ends in "\n"
                    # lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
                    fields = line.split()
                    try:
                        lemma, pos, synsets, pointers = fields[0], fields[1], int(fields[2]), int(fields[3])
                        offsets = [int(field) for field in fields[6 + pointers:6 + pointers + synsets]]
                        if synsets <= 0 or int(fields[4 + pointers]) != synsets or len(offsets) != synsets:
                            raise ValueError(f"{synsets} synsets, {len(offsets)} offsets")
                    except (IndexError, ValueError) as err:
                        raise WordNetError(f"file {fileid}, line {number}: {err}") from err
                    self._lemma_pos_offset_map[lemma][pos] = offsets
                    if pos == ADJ:  # index.adj has no "s": its satellites, in index order
                        self._lemma_pos_offset_map[lemma][ADJ_SAT] = [o for o in offsets if o in self.satellite_offsets]

        def _load_exception_map(self):
            for pos, suffix in self._FILEMAP.items():
                self._exception_map[pos] = {}
                for line in self._lines(f"{suffix}.exc"):
                    terms = line.split()
                    if terms:
                        self._exception_map[pos][terms[0]] = terms[1:]
            self._exception_map[ADJ_SAT] = self._exception_map[ADJ]
            # NLTK keeps the map private; fgclip's readers of it use this name (the same dict).
            self.exceptions = self._exception_map

        def _data_file(self, pos):
            pos = ADJ if pos == ADJ_SAT else pos
            if self._data_file_map.get(pos) is None:
                self._data_file_map[pos] = _DataFile(self.root.join(f"data.{self._FILEMAP[pos]}").open(), self._ENCODING)
            return self._data_file_map[pos]

    return EnglishWordNet


class _DataFile:
    """What NLTK's reader asks of an open data file (seek to a synset's byte offset, read its
    line, iterate), over a binary file."""

    def __init__(self, handle, encoding: str):
        self._handle = handle
        self._encoding = encoding

    def seek(self, offset: int, whence: int = 0) -> None:
        self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def readline(self) -> str:
        return self._handle.readline().decode(self._encoding)

    def __iter__(self):
        return (line.decode(self._encoding) for line in self._handle)

    def close(self) -> None:
        self._handle.close()

    __del__ = close  # the reader keeps its data files open for the process's life, as NLTK's does


@lru_cache(maxsize=1)
def _sense_counts() -> dict[str, int]:
    """Sense key -> tagged-corpus count, read once from ``cntlist.rev``.

    NLTK's ``Lemma.count()`` binary-searches that file on disk at every call; at a few thousand
    captions a second those reads were half the generator's time. The file is read through the
    loaded reader's root, which may be a folder or a path inside ``wordnet.zip`` (as
    ``nltk.download`` leaves it), and is then the same WordNet the synsets come from.
    """
    # Read whole, in binary: NLTK's decoding stream reader goes a line at a time, at 3x the cost.
    with wn().root.join("cntlist.rev").open() as handle:
        text = handle.read().decode("utf-8")
    counts: dict[str, int] = {}
    for line in text.splitlines():
        key, _, count = line.split()
        counts[key] = int(count)
    return counts


def count_of(lemma) -> int:
    """Corpus frequency of one WordNet lemma (a word in one sense)."""
    return _sense_counts().get(lemma.key(), 0)


def _name(lemma_name: str) -> str:
    return lemma_name.replace("_", " ")


def _usable_word(name: str) -> bool:
    return name.replace(" ", "").isalpha() and name.islower() and name.count(" ") <= 1


@lru_cache(maxsize=None)
def noun_lemma(word: str, plural: bool = False) -> str | None:
    """WordNet base form of a noun (``"mice"`` -> ``"mouse"``), or None if WordNet lacks it.

    WordNet lists some plurals as words of their own ("men" the work force, "boards" the stage),
    and ``morphy`` returns those unchanged. Where the tagger says the word is plural, the singular
    is preferred, except for nouns that only come in the plural ("pants", "glasses").
    """
    form = word.lower().replace(" ", "_")
    if plural and word.lower() not in lexicon.PLURAL_ONLY_NOUNS:
        singulars = [f for f in wn()._morphy(form, "n") if f != form]
        if singulars:
            return _name(singulars[0])
    lemma = wn().morphy(form, "n")
    return _name(lemma) if lemma else None


@lru_cache(maxsize=None)
def concrete_sense(word: str):
    """The sense of ``word`` that names a visible thing, or None.

    That is the word's most frequent sense, or for the curated caption nouns (whose most
    frequent WordNet sense is sometimes another: "table" of data, "plate" in baseball) the most
    frequent concrete one, from the file lexicon.CAPTION_SENSE_FILES names where it names one.
    A word that mostly means something else ("game", "board") is None.
    """
    lemma = noun_lemma(word)
    if lemma is None or lemma in lexicon.NOT_REPLACEABLE_NOUNS:
        return None
    synsets = wn().synsets(lemma.replace(" ", "_"), "n")
    if lemma in lexicon.CAPTION_SENSE_FILES:
        synsets = [s for s in synsets if s.lexname() == lexicon.CAPTION_SENSE_FILES[lemma]]
    elif lemma not in lexicon.CONCRETE_CAPTION_NOUNS:
        synsets = synsets[:1]
    for synset in synsets:
        if synset.lexname() in CONCRETE_NOUN_FILES and not synset.instance_hypernyms():
            return synset  # instances are named individuals ("Sand", the writer)
    return None


@lru_cache(maxsize=None)
def is_motor_vehicle(word: str) -> bool:
    """A car, bus, train, plane or boat with an engine: a thing that can be parked or moving."""
    if word in lexicon.NOT_MOTOR_VEHICLES:
        return False
    if word in lexicon.MOTOR_VEHICLE_EXTRA:
        return True
    return bool(_ancestor_names(word) & lexicon.MOTOR_VEHICLE_SYNSETS)


def is_kind_of(word: str, synset_name: str) -> bool:
    """Is the caption sense of ``word`` below the synset ``synset_name`` ("vessel.n.02")?"""
    return synset_name in _ancestor_names(word)


@lru_cache(maxsize=None)
def _ancestor_names(word: str) -> frozenset:
    """Names of every hypernym above the caption sense of ``word`` (empty if it is no thing)."""
    sense = concrete_sense(word)
    return frozenset(s.name() for s in sense.closure(lambda s: s.hypernyms())) if sense is not None else frozenset()


@lru_cache(maxsize=None)
def is_concrete_noun_only(word: str) -> bool:
    """True for a word WordNet knows only as a concrete noun (tags words the lexicon lacks)."""
    reader = wn()
    synsets = reader.synsets(word)
    return bool(synsets) and all(s.pos() == "n" for s in synsets) and concrete_sense(word) is not None


@lru_cache(maxsize=None)
def is_compound_noun(words: tuple[str, ...]) -> bool:
    """True when the words form one concrete WordNet noun ("fire hydrant", "hot dogs")."""
    name = "_".join(w.lower() for w in words)
    lemma = wn().morphy(name, "n")
    if lemma is None or "_" not in lemma:
        return False
    return any(s.lexname() in CONCRETE_NOUN_FILES for s in wn().synsets(lemma, "n"))


def _hypernym_closure(synsets) -> set:
    closure = set(synsets)
    for synset in synsets:
        closure.update(synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms()))
    return closure


@lru_cache(maxsize=None)
def noun_siblings(word: str, limit: int = 8) -> tuple[str, ...]:
    """Common co-hyponyms of the word's concrete sense, in the same lexicographer file.

    Excluded: any word sharing a synset with ``word`` (synonyms), and any word one of whose
    senses is a hypernym or hyponym of one of ``word``'s senses. Ranked by corpus frequency.
    """
    sense = concrete_sense(word)
    if sense is None:
        return ()
    reader = wn()
    own_senses = reader.synsets(noun_lemma(word).replace(" ", "_"), "n")
    own_names = {_name(n.lower()) for s in own_senses for n in s.lemma_names()}
    own_closure = _hypernym_closure(own_senses)
    scored: dict[str, int] = {}
    parents = sense.hypernyms() + sense.instance_hypernyms()
    for parent in parents:
        for sibling in parent.hyponyms() + parent.instance_hyponyms():
            if sibling == sense or sibling.lexname() != sense.lexname():
                continue
            for sibling_lemma in sibling.lemmas():
                name = _name(sibling_lemma.name())
                if not _usable_word(name) or name in own_names or name in lexicon.NOT_REPLACEABLE_NOUNS:
                    continue
                count = count_of(sibling_lemma)
                if count < MIN_SENSE_COUNT:
                    continue
                candidate_senses = reader.synsets(sibling_lemma.name(), "n")
                if candidate_senses[0] != sibling:
                    continue  # the word mostly means something else ("head" of cattle)
                if own_closure.intersection(candidate_senses):
                    continue  # candidate is the word itself or one of its hypernyms
                if any(s in own_senses for s in _hypernym_closure(candidate_senses)):
                    continue  # candidate is a hyponym of the word
                scored[name] = max(scored.get(name, 0), count)
    ranked = sorted(scored, key=lambda n: (-scored[n], n))
    return tuple(ranked[:limit])


def is_container(word: str) -> bool:
    """Is the thing a container (bag, box, bowl)? Its WordNet siblings are other containers,
    which rarely fit what the caption puts in it."""
    return is_kind_of(word, "container.n.01")


@lru_cache(maxsize=None)
def _noun_senses_and_ancestors(word: str) -> tuple[frozenset, frozenset]:
    """Names of the word's noun senses and of all their hypernyms. Names, not synsets: a synset
    hashes in Python, a name in C, and set operations on them ran for every replacement tried."""
    senses = wn().synsets(word.replace(" ", "_"), "n")
    ancestors = frozenset(a.name() for s in senses for a in s.closure(lambda x: x.hypernyms()))
    return frozenset(s.name() for s in senses), ancestors


def related_to_any(word: str, others) -> bool:
    """Is ``word`` a synonym, hypernym or hyponym of any of ``others`` ("adult" of "woman",
    "child" of "boy")? Two such nouns in one caption say the same thing twice."""
    mine = my_ancestors = None
    for other in others:
        if not other:
            continue
        if mine is None:  # only now: the closure of a word compared with nothing is never needed
            mine, my_ancestors = _noun_senses_and_ancestors(word)
        theirs, their_ancestors = _noun_senses_and_ancestors(other)
        if not (mine.isdisjoint(theirs) and mine.isdisjoint(their_ancestors) and theirs.isdisjoint(my_ancestors)):
            return True
    return False


@lru_cache(maxsize=None)
def verb_siblings(lemma: str, limit: int = 6) -> tuple[str, ...]:
    """Common co-hyponyms of a verb's first sense within an action lexicographer file."""
    synsets = wn().synsets(lemma, "v")
    if not synsets or synsets[0].lexname() not in ACTION_VERB_FILES:
        return ()
    sense = synsets[0]
    own_names = {_name(n) for s in synsets for n in s.lemma_names()}
    own_closure = _hypernym_closure(synsets)
    scored: dict[str, int] = {}
    for parent in sense.hypernyms():
        for sibling in parent.hyponyms():
            if sibling == sense or sibling.lexname() != sense.lexname() or sibling in own_closure:
                continue
            for sibling_lemma in sibling.lemmas()[:1]:
                name = _name(sibling_lemma.name())
                if " " in name or not _usable_word(name) or name in own_names:
                    continue
                if count_of(sibling_lemma) >= MIN_VERB_SENSE_COUNT:
                    scored[name] = max(scored.get(name, 0), count_of(sibling_lemma))
    ranked = sorted(scored, key=lambda n: (-scored[n], n))
    return tuple(ranked[:limit])


@lru_cache(maxsize=None)
def is_verb_form(word: str) -> bool:
    """True for an inflected form WordNet can reduce to a verb ("rides" -> "ride")."""
    lemma = wn().morphy(word.lower(), "v")
    return lemma is not None and lemma != word.lower()


@lru_cache(maxsize=None)
def verb_lemma(word: str) -> str | None:
    """Base form of a verb. Where WordNet's morphology allows several ("swinging" -> "swing" or
    "swinge"), a verb of the curated lists wins, then the most frequent one."""
    options = wn()._morphy(word.lower(), "v")
    if not options:
        return None
    if len(options) == 1:
        return options[0]  # nothing to choose: loading the verb's senses to count them is wasted
    curated = [o for o in options if o in lexicon.ACTION_VERBS or o in lexicon.RELATION_VERBS]
    if curated:
        return curated[0]
    return max(options, key=lambda o: (sum(count_of(lemma) for lemma in wn().lemmas(o, "v")), -len(o)))


@lru_cache(maxsize=1)
def irregular_plurals() -> dict[str, str]:
    """singular -> plural for nouns WordNet lists as exceptions (``noun.exc``)."""
    plurals: dict[str, str] = {}
    for plural, singulars in wn().exceptions["n"].items():
        for singular in singulars:
            if "_" not in plural and plural.isalpha() and singular != plural:
                plurals.setdefault(singular, plural)
    return plurals
