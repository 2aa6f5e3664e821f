"""Queue engine (layer 1): pure functions over station state; standard library only, no I/O."""
