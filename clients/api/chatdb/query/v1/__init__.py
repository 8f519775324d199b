"""Generated from proto/chatdb/query/v1 by make proto. Do not edit."""
