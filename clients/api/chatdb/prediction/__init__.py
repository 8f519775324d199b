"""chatdb.prediction: the generated stubs live in v1."""
