"""One module per area of the web app; each exposes ``router`` (pages and their ``/api`` twins)."""
