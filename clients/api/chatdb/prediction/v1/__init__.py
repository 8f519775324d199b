"""Generated from proto/chatdb/prediction/v1 by make proto. Do not edit."""
