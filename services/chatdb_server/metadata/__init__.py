"""The metadata store: ORM models, engine and migrations."""
