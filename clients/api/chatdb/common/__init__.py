"""chatdb.common: the generated stubs live in v1."""
