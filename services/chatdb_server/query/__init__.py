"""QueryService: ask, execute, validate, history, feedback; degradation levels."""
