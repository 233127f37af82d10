"""fgclip: compositional CLIP fine-tuning (CE-CLIP) as a batch workflow."""
__version__ = "0.1.0"
