"""Target SQL databases: DSNs, read-only engines, dialects, the structure model, the guard and execution."""
