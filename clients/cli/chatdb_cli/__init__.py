"""``chatdb``: the command line for people, on a running ChatDB server through the Python SDK."""
