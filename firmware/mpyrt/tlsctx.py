"""TLS to the broker: the SSL context a board hands umqtt.simple, built from its settings and the hall
CA file on its flash. The `ssl` module is a parameter, so the same code runs on the board
(MicroPython's ssl over mbedtls) and on the host (CPython's ssl, whose SSLContext has the same names).

Settings (mpyrt.conf.LINK): `mqtt_tls` (False: plain MQTT), `mqtt_ca` (the CA file, DER as
MicroPython's `load_verify_locations(cadata=...)` wants it; PEM is converted here), `mqtt_port`
(0: 1883, or 8883 with TLS). The broker's certificate must come from that CA and name `mqtt_host`
(umqtt.simple passes it as server_hostname); there is no unverified mode.

Every failure is a ValueError whose text says what to fix: the link logs it at each connect try.
"""

PLAIN_PORT = 1883
TLS_PORT = 8883
PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
PEM_END = b"-----END CERTIFICATE-----"


def port(cfg):
    """The broker port: `mqtt_port`, else the usual one for plain MQTT or TLS."""
    if cfg["mqtt_port"]:
        return cfg["mqtt_port"]
    return TLS_PORT if cfg["mqtt_tls"] else PLAIN_PORT


def find_ssl():
    """This interpreter's ssl module, or None (a firmware built without TLS)."""
    try:
        import ssl

        return ssl
    except ImportError:
        return None


def der(data):
    """The certificate in `data` as DER: PEM (the first certificate of it) is decoded, DER kept."""
    start = data.find(PEM_BEGIN)
    if start < 0:
        return data
    end = data.find(PEM_END, start)
    if end < 0:
        raise ValueError("PEM without its END line")
    import binascii

    body = data[start + len(PEM_BEGIN):end]
    return binascii.a2b_base64(body.replace(b"\r", b"").replace(b"\n", b""))


def context(ssl, cadata, name="mqtt_ca"):
    """A client context that trusts only the CA in `cadata` (DER or PEM bytes) and requires the
    broker's certificate; CPython also checks the host name here, mbedtls in wrap_socket."""
    if ssl is None:
        raise ValueError("mqtt_tls: this MicroPython has no ssl module (flash a firmware with TLS)")
    try:
        cadata = der(cadata)
    except Exception as exc:
        raise ValueError("%s: not a certificate (%r)" % (name, exc))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED  # MicroPython's ssl.SSLContext starts at CERT_NONE
    if hasattr(ctx, "check_hostname"):
        ctx.check_hostname = True
    try:
        ctx.load_verify_locations(cadata=cadata)
    except Exception as exc:  # CPython: ssl.SSLError; MicroPython: ValueError or OSError from mbedtls
        raise ValueError("%s: not a certificate (%r): give the hall CA, DER (openssl x509 -outform der) or PEM"
                         % (name, exc))
    return ctx


def load(cfg, ssl, root=""):
    """None for plain MQTT; with `mqtt_tls`, the context for the CA file `root + mqtt_ca`."""
    if not cfg["mqtt_tls"]:
        return None
    name = cfg["mqtt_ca"]
    if not name:
        raise ValueError("mqtt_tls needs mqtt_ca: the file of the hall CA certificate on the board")
    try:
        with open(root + name, "rb") as f:
            cadata = f.read()
    except OSError as exc:
        raise ValueError("mqtt_ca %r: cannot read it (%r): copy the hall CA there (firmware/README.md)"
                         % (name, exc))
    return context(ssl, cadata, "mqtt_ca %r" % name)
