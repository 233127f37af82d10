"""A text-only probe of hard negatives: can a model tell the negative from the true caption
without the image?

Hard negatives are meant to be told apart by looking at the image. If a bag-of-n-grams model
that sees only the two texts already picks the true caption well above chance, the negatives
carry a text-side shortcut (an unusual word, a broken bigram, a tell-tale edit) and training
CLIP on them teaches its text tower that shortcut instead of grounding. The probe's accuracy on
held-out captions measures the shortcut: the closer to 50% the better.

The recipe (fixed, so that measurements compare across generators and over time):

* Features. Each text is lower-cased and split into words and punctuation (``\\w+|[^\\w\\s]``);
  its unigrams and bigrams are counted and hashed to 2**20 buckets with crc32 (stable across
  processes, unlike Python's salted ``hash``). A pair's vector is the first text's counts minus
  the second's, so it has non-zero entries only where the two texts differ.
* Labels. Each pair is shown in a seeded random order, label 1 when the first text is the true
  caption.
* Model. L2-regularised logistic regression without intercept (the task is symmetric: swapping
  the texts negates x and flips the label), fitted by truncated Newton on sparse rows. Its
  regularisation strength is chosen on a held-out slice of the training captions.
* Split. By caption, 70% train / 30% test, seeded: all the negatives of one caption fall on the
  same side, so the test never scores a caption whose other negatives were learnt.

Pure numpy; the data loaders and the command line live in ``bench/probe.py``.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

HASH_BUCKETS = 2**20
TOKEN = re.compile(r"\w+|[^\w\s]")
TEST_FRACTION = 0.3
VALIDATION_FRACTION = 0.2  # of the training captions, to choose the regularisation strength
# Regularisation strengths tried (lambda in the objective below; sklearn's C is 1/lambda):
# half-decades from 0.01 to 100.
LAMBDAS: tuple[float, ...] = tuple(float(10 ** (k / 2)) for k in range(-4, 5))


@dataclass(frozen=True)
class Pair:
    """A true caption and one hard negative of it. ``group`` is what accuracy is reported by (a
    rule, a benchmark subset); ``kind`` an optional second grouping (the negative's kind)."""

    caption: str
    negative: str
    group: str
    kind: str = ""


# ----------------------------------------------------------------------------- features


def tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation marks: "A dog, running." -> [a, dog, ",", running, "."]."""
    return TOKEN.findall(text.lower())


def ngram_counts(text: str) -> dict[int, float]:
    """Hashed unigram and bigram counts of ``text``: {bucket: count}.

    A bigram is its two tokens joined by a space; no token contains a space, so a bigram never
    hashes as the same string as a unigram (buckets may still collide, as in any hashing trick).
    """
    words = tokens(text)
    counts: dict[int, float] = {}
    for gram in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
        bucket = zlib.crc32(gram.encode("utf-8")) % HASH_BUCKETS
        counts[bucket] = counts.get(bucket, 0.0) + 1.0
    return counts


def difference(first: dict[int, float], second: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """``first - second`` as sorted (indices, values), zeros dropped (a swap of two words leaves
    only the bigrams around them)."""
    diff = dict(first)
    for bucket, count in second.items():
        diff[bucket] = diff.get(bucket, 0.0) - count
    nonzero = sorted(bucket for bucket, value in diff.items() if value != 0.0)
    return np.array(nonzero, dtype=np.int64), np.array([diff[b] for b in nonzero], dtype=np.float64)


@dataclass
class SparseRows:
    """Rows of a sparse matrix in CSR form: row ``i`` has values ``values[indptr[i]:indptr[i+1]]``
    at columns ``indices[...]`` of the same slice. ``row_of`` repeats each row's number for each
    of its entries, which turns the two products below into one ``np.bincount`` each."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> "SparseRows":
        lengths = np.array([len(indices) for indices, _ in rows], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        if not rows:
            return cls(indptr, np.zeros(0, np.int64), np.zeros(0))
        return cls(indptr, np.concatenate([i for i, _ in rows]).astype(np.int64),
                   np.concatenate([v for _, v in rows]).astype(np.float64))

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def row_of(self) -> np.ndarray:
        return np.repeat(np.arange(len(self)), np.diff(self.indptr))

    def take(self, rows: np.ndarray) -> "SparseRows":
        """The sub-matrix of the given row numbers (in that order)."""
        starts, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # Entry k of new row r sits at starts[r] + k in the old arrays.
        entries = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseRows(indptr, self.indices[entries], self.values[entries])

    def scale_rows(self, factors: np.ndarray) -> "SparseRows":
        """Each row multiplied by its factor (a sign, to present a pair the other way round)."""
        return SparseRows(self.indptr, self.indices, self.values * np.repeat(factors, np.diff(self.indptr)))


def featurise(pairs: Sequence[Pair]) -> SparseRows:
    """One row per pair: ``counts(caption) - counts(negative)`` (the caption first)."""
    cache: dict[str, dict[int, float]] = {}  # a caption comes back once per negative

    def counts(text: str) -> dict[int, float]:
        if text not in cache:
            cache[text] = ngram_counts(text)
        return cache[text]

    return SparseRows.from_rows([difference(counts(p.caption), counts(p.negative)) for p in pairs])


def present_in_random_order(x: SparseRows, seed: int) -> tuple[SparseRows, np.ndarray]:
    """Show each pair in a seeded random order: (rows, labels), label 1 when the first text is the
    true caption. Reversing a pair negates its difference vector.

    A model without intercept fits the same weights whatever the order (the loss of (x, 1) is
    the loss of (-x, 0)); the random order is what makes a constant answer score 50%.
    """
    caption_first = np.random.default_rng([seed, 1]).random(len(x)) < 0.5
    return x.scale_rows(np.where(caption_first, 1.0, -1.0)), caption_first.astype(np.int64)


# ----------------------------------------------------------------------------- split


def split_by_caption(captions: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Boolean mask, True for the pairs whose caption is drawn into the ``fraction`` side.

    The distinct captions (by text, so a caption repeated across groups or sources stays on one
    side) are shuffled with ``seed`` and the first ``round(fraction * distinct)`` taken.
    """
    distinct = list(dict.fromkeys(captions))
    order = np.random.default_rng([seed, 0]).permutation(len(distinct))
    chosen = {distinct[i] for i in order[: int(round(fraction * len(distinct)))]}
    return np.array([caption in chosen for caption in captions], dtype=bool)


# ----------------------------------------------------------------------------- model


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """a.b without BLAS: OpenBLAS starts its threads for any dot product, which for vectors this
    short costs more than it saves, and ten times more on a busy machine."""
    return float(np.einsum("i,i->", a, b))


def _norm(a: np.ndarray) -> float:
    return math.sqrt(_dot(a, a))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


@dataclass
class LogisticRegression:
    """L2-regularised logistic regression without intercept, on sparse rows.

    With rows x_i, labels y_i in {-1, +1} (label 1 -> +1) and weights w, it minimises

        f(w) = sum_i log(1 + exp(-y_i w.x_i)) + (lambda / 2) |w|^2

    and predicts label 1 when w.x > 0 (P(label 1 | x) = sigmoid(w.x)). The fit is Newton's
    method with the step found by conjugate gradients (truncated Newton, as in liblinear), using
    only products of X with vectors, with

        gradient  g   = X^T (-y * sigmoid(-y * Xw)) + lambda w
        Hessian   H v = X^T (d * (X v)) + lambda v,   d = sigmoid(Xw) * (1 - sigmoid(Xw))

    f is strongly convex for lambda > 0, so it converges from any start in a few Newton steps.
    The weights live on the columns met in training only (a column never seen keeps weight 0
    under the L2 term), which keeps the vectors small whatever the number of hash buckets.
    """

    lam: float
    columns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    newton_steps: int = 0

    def fit(self, x: SparseRows, labels: np.ndarray, tol: float = 1e-5, max_steps: int = 100,
            start: "LogisticRegression | None" = None) -> "LogisticRegression":
        """Fit on ``x``; stop when |g| <= tol * |g at w=0|. ``start``: a fitted model whose weights
        to start from (the regularisation path starts each fit from the previous one, and the
        final fit from the path's model at the chosen lambda: a few Newton steps instead of
        the 10 to 25 a fit from zero takes at weak regularisation)."""
        self.columns, local = np.unique(x.indices, return_inverse=True)
        rows, values, n, d = x.row_of, x.values, len(x), len(self.columns)
        y = np.where(np.asarray(labels) == 1, 1.0, -1.0)

        def times(w):  # X w
            return np.bincount(rows, weights=values * w[local], minlength=n)

        def transposed_times(u):  # X^T u
            return np.bincount(local, weights=values * u[rows], minlength=d)

        def objective(w, z):
            return np.logaddexp(0.0, -y * z).sum() + 0.5 * self.lam * _dot(w, w)

        w = np.zeros(d) if start is None else start.weights_at(self.columns)
        z = times(w)
        first_norm = _norm(transposed_times(-y * 0.5))  # |g| at w = 0
        self.newton_steps = 0
        for self.newton_steps in range(1, max_steps + 1):
            gradient = transposed_times(-y * _sigmoid(-y * z)) + self.lam * w
            norm = _norm(gradient)
            if norm <= tol * max(first_norm, 1e-12):
                break
            p = _sigmoid(z)
            curvature = p * (1.0 - p)
            step = _conjugate_gradient(
                lambda v: transposed_times(curvature * times(v)) + self.lam * v,
                # Solved loosely far from the optimum and ever more exactly near it (forcing
                # term sqrt(|g| / |g0|)), which keeps Newton's fast convergence at the end.
                -gradient, tolerance=min(0.5, math.sqrt(norm / max(first_norm, 1e-12))) * norm)
            # Backtracking (Armijo) line search: the full Newton step is taken nearly always.
            f, slope, t = objective(w, z), _dot(gradient, step), 1.0
            z_step = times(step)
            while objective(w + t * step, z + t * z_step) > f + 1e-4 * t * slope and t > 1e-10:
                t *= 0.5
            w, z = w + t * step, z + t * z_step
        self.weights = w
        return self

    def weights_at(self, columns: np.ndarray) -> np.ndarray:
        """The weights of ``columns`` (0 for a column not seen in training)."""
        lookup = np.zeros(max(int(columns.max(initial=-1)), int(self.columns.max(initial=-1))) + 1)
        lookup[self.columns] = self.weights
        return lookup[columns]

    def scores(self, x: SparseRows) -> np.ndarray:
        """w.x for each row."""
        return np.bincount(x.row_of, weights=x.values * self.weights_at(x.indices), minlength=len(x))

    def predict(self, x: SparseRows) -> np.ndarray:
        """Label 1 (the first text is the caption) when w.x > 0; a pair whose texts have the same
        n-grams scores 0 and is answered 0, which is right half the time in a random order."""
        return (self.scores(x) > 0).astype(np.int64)


def _conjugate_gradient(hessian_times, b: np.ndarray, tolerance: float, max_iterations: int = 250) -> np.ndarray:
    """Approximately solve H s = b by conjugate gradients, until |H s - b| <= tolerance. (A
    diagonal preconditioner was tried: it did not cut the iterations on these features.)"""
    s = np.zeros_like(b)
    residual = b.copy()
    direction = residual.copy()
    squared = _dot(residual, residual)
    for _ in range(max_iterations):
        if math.sqrt(squared) <= tolerance:
            break
        h_direction = hessian_times(direction)
        alpha = squared / _dot(direction, h_direction)
        s += alpha * direction
        residual -= alpha * h_direction
        new_squared = _dot(residual, residual)
        direction = residual + (new_squared / squared) * direction
        squared = new_squared
    return s


# ----------------------------------------------------------------------------- accuracy


def wilson_interval(correct: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion ``correct / n`` (NaN when n = 0):

        (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    """
    if n == 0:
        return float("nan"), float("nan")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy(correct: np.ndarray) -> dict:
    """{n, accuracy, low, high} of a boolean array (low/high: the 95% Wilson interval)."""
    n, hits = len(correct), int(np.sum(correct))
    low, high = wilson_interval(hits, n)
    return {"n": n, "accuracy": hits / n if n else float("nan"), "low": low, "high": high}


def accuracy_by_group(correct: np.ndarray, groups: Sequence[str]) -> dict[str, dict]:
    """:func:`accuracy` of each group (in order of first appearance)."""
    groups = np.asarray(groups, dtype=object)
    return {group: accuracy(correct[groups == group]) for group in dict.fromkeys(groups.tolist())}


# ----------------------------------------------------------------------------- the probe


@dataclass
class ProbeResult:
    lam: float  # the regularisation strength chosen on the validation slice
    validation_accuracy: dict[float, float]  # by lambda tried
    train_pairs: int
    test: np.ndarray  # mask over the pairs: True for the test side
    correct: np.ndarray  # over the test pairs, in the pairs' order
    model: LogisticRegression

    def summary(self, pairs: Sequence[Pair]) -> dict:
        """Accuracy overall, by group and (where pairs carry one) by kind, on the test pairs."""
        tested = [p for p, t in zip(pairs, self.test) if t]
        result = {
            "train_pairs": self.train_pairs,
            "test_pairs": len(tested),
            "lambda": self.lam,
            "validation_accuracy": {f"{lam:g}": acc for lam, acc in self.validation_accuracy.items()},
            "overall": accuracy(self.correct),
            "groups": accuracy_by_group(self.correct, [p.group for p in tested]),
        }
        if any(p.kind for p in tested):
            result["kinds"] = accuracy_by_group(self.correct, [p.kind for p in tested])
        return result


def probe(pairs: Sequence[Pair], seed: int = 0, lambdas: Iterable[float] = LAMBDAS,
          test_fraction: float = TEST_FRACTION, validation_fraction: float = VALIDATION_FRACTION) -> ProbeResult:
    """Split ``pairs`` by caption, choose lambda on a validation slice of the training captions,
    refit on all the training pairs and score the test pairs.

    Lambda is chosen by validation accuracy, ties going to the stronger regularisation. The
    path runs from strong to weak, each fit starting from the previous one.
    """
    captions = [p.caption for p in pairs]
    x, labels = present_in_random_order(featurise(pairs), seed)
    test = split_by_caption(captions, test_fraction, seed)
    train_rows = np.flatnonzero(~test)
    validation = split_by_caption([captions[i] for i in train_rows], validation_fraction, seed + 1)
    fit_rows, check_rows = train_rows[~validation], train_rows[validation]

    x_fit, x_check = x.take(fit_rows), x.take(check_rows)
    scores: dict[float, float] = {}
    path: dict[float, LogisticRegression] = {}
    previous = None
    for lam in sorted(lambdas, reverse=True):
        previous = path[lam] = LogisticRegression(lam).fit(x_fit, labels[fit_rows], start=previous)
        scores[lam] = float(np.mean(previous.predict(x_check) == labels[check_rows])) if len(check_rows) else 0.0
    best = max(sorted(scores, reverse=True), key=lambda lam: scores[lam])  # max keeps the first of ties

    model = LogisticRegression(best).fit(x.take(train_rows), labels[train_rows], start=path[best])
    test_rows = np.flatnonzero(test)
    correct = model.predict(x.take(test_rows)) == labels[test_rows]
    return ProbeResult(best, dict(sorted(scores.items())), len(train_rows), test, correct, model)


__all__ = ["HASH_BUCKETS", "LAMBDAS", "LogisticRegression", "Pair", "ProbeResult", "SparseRows", "accuracy",
           "accuracy_by_group", "difference", "featurise", "ngram_counts", "present_in_random_order", "probe",
           "split_by_caption", "tokens", "wilson_interval"]
