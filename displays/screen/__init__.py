"""The hall screen: a full-screen page for the TVs of the waiting hall, served by the hall server."""

from pathlib import Path

ASSETS = Path(__file__).parent
