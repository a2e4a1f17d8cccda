"""The MQTT link of a Raspberry Pi device (CPython, paho-mqtt), shared by the Pi agents and the
simulators: availability with a last will, requests retried with a stable id until answered, and
the retained state the device shows."""

from firmware.pilink.link import DeviceLink, LinkDown, Refusal

__all__ = ["DeviceLink", "LinkDown", "Refusal"]
