"""Message types of the `up` topic: their fields, and which device kind may send each.

A spec is a tuple of (field, kind, required). Receivers ignore keys they do not know, so a newer
device does not break an older server.
"""

from protocols.errors import ProtocolError
from protocols.topics import is_slug

# field kinds, checked by check_value()
CODE = "code"  # a slug: service codes, priority categories, rating levels and reasons, officer ids
TEXT = "text"  # free text up to 200 characters
PIN = "pin"  # 4 to 8 digits, as a string
COUNTER = "counter"  # counter number, 1..9999
TICKET = "ticket"  # ticket number such as A001 or 1023
BOOL = "bool"
INT = "int"  # a non-negative integer
ID = "id"  # a message id (1 to 64 of A-Z a-z 0-9 - _ . :), e.g. the id of an earlier ticket.take

MAX_ID = 64
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"

TYPES = {
    # ticket dispenser
    "ticket.take": (("service", CODE, True), ("priority", CODE, False)),
    "ticket.printed": (("number", TICKET, True),),  # the ticket left the printer whole
    "ticket.block": (("size", INT, True),),  # reserve numbers to issue while the server is unreachable
    # a number of the block issued offline; issued_at is ISO 8601 (the device's clock, clamped)
    "ticket.offline": (("service", CODE, True), ("number", TICKET, True), ("issued_at", TEXT, True),
                       ("priority", CODE, False)),
    # a ticket.take whose reply never came (the citizen got an offline number, or nothing):
    # void the ticket the server may have issued for it, unless it was printed or called
    "ticket.void": (("take", ID, True),),
    # counter terminal
    "officer.login": (("officer", CODE, True), ("pin", PIN, True)),
    "officer.logout": (),
    "call.next": (("ticket", TICKET, False),),
    "call.recall": (),
    "call.no_show": (),
    "serve.done": (),
    "serve.transfer": (("service", CODE, False), ("counter", COUNTER, False)),
    "serve.hold": (),
    "counter.pause": (("reason", TEXT, False),),
    "counter.resume": (),
    # rating button
    "rating.vote": (("score", CODE, True), ("reason", CODE, False), ("ticket", TICKET, False)),
    # any device: ask the server to publish this device's state again
    "state.get": (),
}

# device kind -> message types it may send
KINDS = {
    "dispenser": ("ticket.take", "ticket.printed", "ticket.block", "ticket.offline", "ticket.void", "state.get"),
    "terminal": (
        "officer.login", "officer.logout", "call.next", "call.recall", "call.no_show",
        "serve.done", "serve.transfer", "serve.hold", "counter.pause", "counter.resume", "state.get",
    ),
    "rating": ("rating.vote", "state.get"),
    "led": ("state.get",),
    "screen": ("state.get",),
    # a serial LED board controller: reads its counters' LED states, sends nothing on `up`
    "boards": (),
}

_TICKET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def is_ticket_number(text):
    """Upper-case letters and digits, at least one digit, at most 12 characters (A001, 1023)."""
    if not isinstance(text, str) or not 1 <= len(text) <= 12:
        return False
    digit = False
    for ch in text:
        if ch not in _TICKET_CHARS:
            return False
        if "0" <= ch <= "9":
            digit = True
    return digit


def is_message_id(value):
    """1 to 64 characters of A-Z a-z 0-9 - _ . : (the envelope's `id`)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID:
        return False
    for ch in value:
        if ch not in ID_CHARS:
            return False
    return True


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_digits(text):
    # ASCII only: CPython's str.isdigit() also accepts "١٢٣٤" and "²", MicroPython's does not
    for ch in text:
        if not "0" <= ch <= "9":
            return False
    return True


def _is_text(value):
    # no surrogate code points: a JSON "\ud800" escape would decode but could never be encoded again
    if not isinstance(value, str) or len(value) > 200:
        return False
    for ch in value:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return False
    return True


def check_value(name, kind, value):
    """Raise bad_field when `value` is not of `kind`."""
    ok = False
    if kind == CODE:
        ok = is_slug(value)
    elif kind == TEXT:
        ok = _is_text(value)
    elif kind == PIN:
        ok = isinstance(value, str) and 4 <= len(value) <= 8 and _is_digits(value)
    elif kind == COUNTER:
        ok = _is_int(value) and 1 <= value <= 9999
    elif kind == TICKET:
        ok = is_ticket_number(value)
    elif kind == BOOL:
        ok = isinstance(value, bool)
    elif kind == INT:
        ok = _is_int(value) and value >= 0
    elif kind == ID:
        ok = is_message_id(value)
    if not ok:
        raise ProtocolError("bad_field", "%s must be a %s" % (name, kind))


def check_fields(msg):
    """Check the fields of a message whose type is known; return the message."""
    t = msg["t"]
    for name, kind, required in TYPES[t]:
        if name in msg and msg[name] is not None:
            check_value(name, kind, msg[name])
        elif required:
            raise ProtocolError("bad_field", "%s is required for %s" % (name, t))
    if t == "serve.transfer":
        has_service = msg.get("service") is not None
        has_counter = msg.get("counter") is not None
        if has_service == has_counter:
            raise ProtocolError("bad_field", "serve.transfer takes exactly one of service, counter")
    return msg


def allowed(kind, t):
    """Whether a device of `kind` may send messages of type `t`."""
    return t in KINDS.get(kind, ())
