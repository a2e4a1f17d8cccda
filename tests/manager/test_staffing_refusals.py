"""Refused staffing attempts are audited like the changes: who, when, what was attempted and the
engine's refusal code; the audit page can show only them."""

from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


def test_refused_attempts_are_in_the_audit_log(staff, server):
    manager, csrf = staff.clients["manager"], staff.csrf("manager")
    headers = {"X-CSRF-Token": csrf}
    r = manager.post("/api/manage/counters/5/services", json={"services": ["khong-co"]}, headers=headers)
    assert r.status_code == 409 and "unknown_service" in r.json()["detail"]
    r = manager.post("/api/manage/officers/o99/move", json={"counter": 3}, headers=headers)
    assert r.status_code == 409 and "unknown_officer" in r.json()["detail"]
    r = manager.post("/api/manage/counters/5/services", json={"services": ["tu-phap"]}, headers=headers)
    assert r.status_code == 200  # a change that succeeds is audited as before, not as a refusal

    rows = manager.get("/api/audit").json()
    move, services = [r for r in rows if r["action"].endswith(".refused")]
    assert (move["action"], move["actor"], move["refused"]) == ("officer.move.refused", "manager", "unknown_officer")
    assert '"officer": "o99"' in move["after"] and '"counter": 3' in move["after"]
    assert (services["action"], services["target"], services["refused"]) == \
        ("counter.services.refused", "counter 5", "unknown_service")
    assert '"attempt": {"services": ["khong-co"]}' in services["after"]
    assert '"services": [' in services["before"]  # the counter as it stayed
    when = datetime.fromisoformat(services["at"])
    assert abs((when - server.service.now()).total_seconds()) < 120
    done = [r for r in rows if r["action"] == "counter.services"]
    assert done and done[0]["refused"] == ""

    only = manager.get("/api/audit?refused=true").json()
    assert {r["action"] for r in only} == {"officer.move.refused", "counter.services.refused"}
    page = manager.get("/audit?refused=true")
    assert page.status_code == 200 and "Bị từ chối (mã)" in page.text and "unknown_officer" in page.text
    assert "counter.services.refused" in manager.get("/audit/export.csv?refused=true").content.decode("utf-8-sig")
    # a viewer sees none of it; an officer's refusal never reaches the engine (403, not audited)
    assert staff.clients["viewer"].get("/api/audit").status_code == 403
    r = staff.clients["officer"].post("/api/manage/counters/5/close", headers={"X-CSRF-Token": staff.csrf("officer")})
    assert r.status_code == 403
    assert len(manager.get("/api/audit?refused=true").json()) == 2
