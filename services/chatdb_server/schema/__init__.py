"""SchemaService: data sources, schema discovery, the join graph, drift."""
