"""Stage 2, the CE-CLIP trainer: data stream, losses, distributed gathering, the loop and its launchers."""
