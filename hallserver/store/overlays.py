"""The repository of configuration overlays: one JSON document per hall, written with its audit
entry in one transaction."""

from __future__ import annotations

from datetime import datetime

from hallserver.store.models import AuditRow, ConfigOverlayRow
from hallserver.store.store import Store, to_utc


class ConfigOverlays:
    def __init__(self, store: Store):
        self.sessions = store.sessions

    def get(self, hall: str) -> dict:
        with self.sessions() as s:
            row = s.get(ConfigOverlayRow, hall)
            return dict(row.data) if row is not None else {}

    def put(self, hall: str, data: dict, actor: str, now: datetime, audit: list[AuditRow] = ()) -> None:
        """Replace the hall's overlay; the audit rows are committed with it, or nothing is."""
        with self.sessions.begin() as s:
            row = s.get(ConfigOverlayRow, hall)
            if row is None:
                s.add(ConfigOverlayRow(hall=hall, data=data, updated_at=to_utc(now), updated_by=actor))
            else:
                row.data, row.updated_at, row.updated_by = data, to_utc(now), actor
            s.add_all(audit)
