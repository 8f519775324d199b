"""Connections to target databases: DSN parsing, async engines, read-only access."""
