"""Generated from proto/chatdb/schema/v1 by make proto. Do not edit."""
