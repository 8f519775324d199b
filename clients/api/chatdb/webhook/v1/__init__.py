"""Generated from proto/chatdb/webhook/v1 by make proto. Do not edit."""
