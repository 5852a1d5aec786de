"""Reads of the calls app, one module per question; the admin and the API both call these."""
