"""One module per group of ``chatdb`` commands, each with a ``register(app)``."""
