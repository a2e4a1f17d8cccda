"""The HTTP edge: JSON API, live streams and the pages, served by FastAPI."""
