"""The git webhook relay: a push on a watched branch becomes a Prefect event, which a
deployment trigger turns into a publish run (incoming webhooks are not part of the open
Prefect server, so this receiver is oneclick's)."""

from oneclick.relay.app import relay_app
from oneclick.relay.push import Push, parse_push
from oneclick.relay.signatures import Refused, delivery_id, event_name, verify
from oneclick.relay.sources import GitSource

__all__ = [
    "GitSource",
    "Push",
    "Refused",
    "delivery_id",
    "event_name",
    "parse_push",
    "relay_app",
    "verify",
]
