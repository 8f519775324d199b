"""ChatDB server: the services, the layers they stand on, and the process that hosts them."""
