"""The process runtime: builds the servers of one or all four services."""
