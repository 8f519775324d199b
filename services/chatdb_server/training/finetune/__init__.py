"""FINE_TUNE jobs: a dataset from golden examples, LoRA training, an adapter stored and registered."""
