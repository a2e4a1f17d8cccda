"""The hall's MQTT broker: the embedded amqtt broker and port helpers.

Production runs Mosquitto (its configuration, passwords and ACL are generated here later);
the embedded broker is the zero-setup default for a single hall and for tests.
"""

from .embedded import EmbeddedBroker, UsernameAwareAnonymousAuthPlugin, start_default
from .ports import free_port, port_in_use

__all__ = ["EmbeddedBroker", "UsernameAwareAnonymousAuthPlugin", "free_port", "port_in_use", "start_default"]
