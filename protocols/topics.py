"""Topic names of the contract: one root per hall, `qms/{hall}/...`."""

from protocols.errors import ProtocolError

ROOT = "qms"
# leaves under dev/{device}/ and who publishes them
DEVICE_LEAVES = ("up", "down", "state", "status")
MAX_SLUG = 48
_SLUG_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"


def is_slug(text):
    """Lower-case letters, digits and inner dashes; what hall and device ids must be."""
    if not isinstance(text, str) or not text or len(text) > MAX_SLUG:
        return False
    if text[0] == "-" or text[-1] == "-":
        return False
    for ch in text:
        if ch not in _SLUG_CHARS:
            return False
    return True


def _check(kind, value):
    if not is_slug(value):
        raise ProtocolError("bad_topic", "%s is not a slug: %r" % (kind, value))
    return value


def device_topic(hall, device, leaf):
    if leaf not in DEVICE_LEAVES:
        raise ProtocolError("bad_topic", "unknown leaf %r" % (leaf,))
    return "%s/%s/dev/%s/%s" % (ROOT, _check("hall", hall), _check("device", device), leaf)


def up(hall, device):
    return device_topic(hall, device, "up")


def down(hall, device):
    return device_topic(hall, device, "down")


def state(hall, device):
    return device_topic(hall, device, "state")


def status(hall, device):
    return device_topic(hall, device, "status")


def calls(hall):
    return "%s/%s/calls" % (ROOT, _check("hall", hall))


def board(hall):
    return "%s/%s/board" % (ROOT, _check("hall", hall))


def server_status(hall):
    return "%s/%s/server/status" % (ROOT, _check("hall", hall))


def username(hall, device):
    """A device's broker login, `{hall}.{device}`: device ids repeat across halls (every hall has
    its `ct-01`) and slugs never hold a dot, so the login names one device of one hall."""
    return "%s.%s" % (_check("hall", hall), _check("device", device))


def subscriptions(hall):
    """What the hall server subscribes to: every device's up and status."""
    return ("%s/%s/dev/+/up" % (ROOT, _check("hall", hall)), "%s/%s/dev/+/status" % (ROOT, hall))


def parse(topic):
    """Split a topic into (hall, device, leaf); device is None for hall-wide topics.

    hall-wide leaves are "calls", "board" and "server/status".
    """
    if not isinstance(topic, str):
        raise ProtocolError("bad_topic", "not a string")
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT:
        raise ProtocolError("bad_topic", topic[:80])
    hall = _check("hall", parts[1])
    if len(parts) == 5 and parts[2] == "dev" and parts[4] in DEVICE_LEAVES:
        return hall, _check("device", parts[3]), parts[4]
    if len(parts) == 3 and parts[2] in ("calls", "board"):
        return hall, None, parts[2]
    if len(parts) == 4 and parts[2] == "server" and parts[3] == "status":
        return hall, None, "server/status"
    raise ProtocolError("bad_topic", topic[:80])
