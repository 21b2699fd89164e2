"""Bottom-up climate action: actors, commitments, coverage, pathways and agreement mechanics."""
