"""Generated from proto/chatdb/access/v1 by make proto. Do not edit."""
