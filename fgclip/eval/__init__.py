"""Stage 3, evaluation on compositional, retrieval and zero-shot benchmarks: not implemented yet, see issue 5."""
