"""``chatdb eval``'s parts: question sets (Spider or CSV), the execution-accuracy comparison, Spider
difficulty, running a set against a server, and the report."""
