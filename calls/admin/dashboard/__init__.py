"""The ops dashboard: aggregates (selectors), server-rendered SVG charts, and the admin view."""
