"""The hall's MQTT broker: the embedded amqtt broker and port helpers.

Production runs Mosquitto (mosquitto.conf, systemd/; passwords.py makes its `$7$` hashes and
acl.py its password and ACL files); the embedded broker is the zero-setup default for a single
hall and for tests, and takes the same password file outside the demo.
"""

from .embedded import EmbeddedBroker, UsernameAwareAnonymousAuthPlugin, start_default
from .ports import free_port, port_in_use

__all__ = ["EmbeddedBroker", "UsernameAwareAnonymousAuthPlugin", "free_port", "port_in_use", "start_default"]
