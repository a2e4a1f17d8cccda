"""A store whose next write fails, as when the database goes away in the middle of a command."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from hallserver.store import Store


class FailingStore(Store):
    fail_next = False

    def record_many(self, *args, **kw):
        if self.fail_next:
            self.fail_next = False
            raise OperationalError("INSERT", {}, Exception("database is gone"))
        return super().record_many(*args, **kw)
