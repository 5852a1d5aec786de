"""The calls app's API views: calls, customers, campaigns and webhook events."""
