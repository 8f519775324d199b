"""chatdb.schema: the generated stubs live in v1."""
