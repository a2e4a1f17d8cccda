"""The message envelope: UTF-8 JSON objects of at most 2 KiB, versioned, with ids and replies.

up:    {"v": 1, "id": "<unique per device, stable across retries>", "t": "<type>", ...}
down:  {"v": 1, "re": "<id>", "ok": true, ...}
       {"v": 1, "re": "<id>", "ok": false, "error": {"code": "...", "message": "..."}}
"""

import json

from protocols import errors, messages
from protocols.errors import ProtocolError

VERSION = 1
MAX_PAYLOAD = 2048
MAX_ID = messages.MAX_ID


# device messages (up, down, state, status) stay under MAX_PAYLOAD; hall-wide snapshots for
# screens (board) may be larger, up to MAX_BOARD
MAX_BOARD = 32768


def encode(obj, limit=MAX_PAYLOAD):
    """Compact UTF-8 JSON bytes; refuses what would not fit in one message."""
    try:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    except TypeError:  # MicroPython's json has no ensure_ascii and writes UTF-8 as is
        text = json.dumps(obj, separators=(",", ":"))
    data = text.encode("utf-8")
    if len(data) > limit:
        raise ProtocolError("payload_too_large", "%d bytes" % len(data))
    return data


def decode(payload, limit=MAX_PAYLOAD):
    """Bytes (or str) -> dict, with one error type for every way it can be malformed."""
    if isinstance(payload, str):
        try:
            payload = payload.encode("utf-8")
        except UnicodeError:  # CPython: a str holding lone surrogates
            raise ProtocolError("bad_encoding")
    if len(payload) > limit:
        raise ProtocolError("payload_too_large", "%d bytes" % len(payload))
    try:
        text = payload.decode("utf-8")
    except (UnicodeError, ValueError):
        raise ProtocolError("bad_encoding")
    try:
        obj = json.loads(text)
    except (ValueError, RuntimeError):  # CPython raises RecursionError on deep nesting
        raise ProtocolError("bad_json")
    if not isinstance(obj, dict):
        raise ProtocolError("not_object")
    return obj


def is_valid_id(value):
    return messages.is_message_id(value)


def _check_version(obj, msg_id=None):
    v = obj.get("v")
    if isinstance(v, bool) or not isinstance(v, int) or v != VERSION:
        raise ProtocolError("bad_version", "v must be %d" % VERSION, msg_id)


def parse_up(payload):
    """Validate an `up` message and return it as a dict.

    The ProtocolError raised carries `msg_id` whenever the id could be read, so the server can
    still send an ok:false reply to the sender.
    """
    obj = decode(payload)
    if "id" not in obj:
        raise ProtocolError("missing_id")
    msg_id = obj["id"]
    if not is_valid_id(msg_id):
        raise ProtocolError("bad_id", "1 to %d characters of [A-Za-z0-9-_.:]" % MAX_ID)
    _check_version(obj, msg_id)
    t = obj.get("t")
    if not isinstance(t, str) or t not in messages.TYPES:
        raise ProtocolError("unknown_type", str(t)[:40], msg_id)
    try:
        messages.check_fields(obj)
    except ProtocolError as exc:
        exc.msg_id = msg_id
        raise
    return obj


def make_up(t, msg_id, fields=None):
    """Build a valid `up` message (for devices and simulators)."""
    msg = {"v": VERSION, "id": msg_id, "t": t}
    if fields:
        for key in fields:
            if fields[key] is not None:
                msg[key] = fields[key]
    if not is_valid_id(msg_id):
        raise ProtocolError("bad_id")
    if t not in messages.TYPES:
        raise ProtocolError("unknown_type", t)
    messages.check_fields(msg)
    return msg


def reply(re, fields=None):
    """An ok:true reply to the up message whose id is `re`."""
    msg = {"v": VERSION, "re": re, "ok": True}
    if fields:
        for key in fields:
            msg[key] = fields[key]
    return msg


def error_reply(re, code, text=None, lang="vi"):
    """An ok:false reply; `text` defaults to the code's message in `lang`."""
    if text is None:
        text = errors.message(code, lang)
    return {"v": VERSION, "re": re, "ok": False, "error": {"code": code, "message": text}}


def parse_down(payload):
    """Validate a `down` message (for devices): a reply with re and ok, or a push with t."""
    obj = decode(payload)
    _check_version(obj)
    if "re" in obj:
        if not is_valid_id(obj["re"]) or not isinstance(obj.get("ok"), bool):
            raise ProtocolError("bad_field", "a reply needs re and ok")
        if not obj["ok"]:
            err = obj.get("error")
            if not isinstance(err, dict) or not isinstance(err.get("code"), str):
                raise ProtocolError("bad_field", "an ok:false reply needs error.code")
    elif not isinstance(obj.get("t"), str):
        raise ProtocolError("bad_field", "a down message is a reply (re) or a push (t)")
    return obj


def status(online, fields=None):
    """A device's or the server's retained availability and health message."""
    msg = {"v": VERSION, "online": bool(online)}
    if fields:
        for key in fields:
            msg[key] = fields[key]
    return msg


def parse_status(payload):
    obj = decode(payload)
    _check_version(obj)
    if not isinstance(obj.get("online"), bool):
        raise ProtocolError("bad_field", "online must be true or false")
    return obj


def parse_object(payload, limit=MAX_PAYLOAD):
    """A versioned object on any other topic (state, calls; board with limit=MAX_BOARD)."""
    obj = decode(payload, limit)
    _check_version(obj)
    return obj
