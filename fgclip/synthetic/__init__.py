"""Synthetic data for fgclip: worlds small enough to train and evaluate on a laptop.

``fgclip.synthetic.shapes`` draws scenes of two coloured shapes in a spatial relation, writes a
training corpus that ``fgclip pipeline build-negatives`` reads as ordinary jsonl, and a held-out
benchmark (``--benchmark shapes`` / ``shapes-retrieval``) whose negatives come from the scene
graph itself.

This package is on the ground floor: it imports neither the pipeline, the trainer, eval nor
torch. It meets them only through the files it writes.
"""
