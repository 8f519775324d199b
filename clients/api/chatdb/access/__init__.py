"""chatdb.access: the generated stubs live in v1."""
