"""The MQTT contract of the hall: topics, the envelope, message types and their validation.

Pure Python in the subset MicroPython runs; imported (never copied) by the hall server, the
Raspberry Pi agents, the simulators and the MicroPython firmware. Reference: protocols/README.md.
"""

from protocols import topics
from protocols.envelope import (
    MAX_BOARD,
    MAX_PAYLOAD,
    VERSION,
    decode,
    encode,
    error_reply,
    is_valid_id,
    make_up,
    parse_down,
    parse_object,
    parse_status,
    parse_up,
    reply,
    status,
)
from protocols.errors import MESSAGES, ProtocolError, message
from protocols.messages import KINDS, TYPES, allowed, is_ticket_number

__all__ = [
    "KINDS", "MAX_BOARD", "MAX_PAYLOAD", "MESSAGES", "TYPES", "VERSION", "ProtocolError", "allowed", "decode",
    "encode", "error_reply", "is_ticket_number", "is_valid_id", "make_up", "message",
    "parse_down", "parse_object", "parse_status", "parse_up", "reply", "status", "topics",
]
