"""ChatDB server: the four services, the layers they stand on, and the process that hosts them."""
