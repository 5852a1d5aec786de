"""The assistants app's API: assistants, phone numbers, routing rules and closures."""
