"""chatdb.training: the generated stubs live in v1."""
