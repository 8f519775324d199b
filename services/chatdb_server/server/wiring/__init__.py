"""How each service is built from a process's Components, started and stopped."""
