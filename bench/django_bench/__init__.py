"""Bench-only Django settings and URLs (never used in production)."""
