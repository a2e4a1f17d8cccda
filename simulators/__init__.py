"""Virtual devices that speak the real protocol over a real broker, and runs of a hall day."""
