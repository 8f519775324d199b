"""ChatDB's public API: the generated gRPC stubs (chatdb.<area>.v1) and the wire codec (chatdb.wire)."""
