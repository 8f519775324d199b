"""Generated from proto/chatdb/common/v1 by make proto. Do not edit."""
