"""The ops console's shared layer: its look (static CSS/JS under the CSP), display time zones,
two-factor sign-in and the admin index layout. Per-area admin pages stay in their apps."""
