"""chatdb.query: the generated stubs live in v1."""
