"""ChatDB: ask relational databases questions in plain language over gRPC."""

__version__ = "0.1.0"
