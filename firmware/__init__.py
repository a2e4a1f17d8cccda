"""Device programs: MicroPython boards and Raspberry Pi agents."""
