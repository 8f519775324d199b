"""Spider difficulty for the benches: the rules live with ``chatdb eval``
(:mod:`chatdb_cli.evaluation.hardness`), which reports accuracy by difficulty too."""

from chatdb_cli.evaluation.hardness import Sql, hardness, needs_nesting

__all__ = ["Sql", "hardness", "needs_nesting"]
