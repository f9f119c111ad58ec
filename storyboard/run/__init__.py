"""Stage 3, generation: the executor submits, polls and downloads, paying once per shot."""
