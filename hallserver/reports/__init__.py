"""Figures for managers and the province: pure computations over plain records (no SQL, no HTTP),
tables to export, charts drawn as SVG, and the live dashboard's view of the engine."""
