"""The web UI's pages, one module per area; each router checks CSRF on every change."""
