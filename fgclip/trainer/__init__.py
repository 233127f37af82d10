"""Stage 2, the CE-CLIP trainer (WebDataset stream, losses, distributed loop): not implemented yet, see issue 4."""
