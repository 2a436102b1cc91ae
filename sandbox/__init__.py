"""Local stand-ins for external systems used in development and tests."""
