"""The process runtime: builds the servers of one or all of the services."""
