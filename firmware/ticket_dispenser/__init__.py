"""The ticket dispenser (Raspberry Pi): service buttons (or the hall server's kiosk page), an ESC/POS
printer, and offline issuing from a block of numbers the server reserved for it."""

from firmware.ticket_dispenser.dispenser import Dispenser, Result

__all__ = ["Dispenser", "Result"]
