"""Generated from proto/chatdb/training/v1 by make proto. Do not edit."""
