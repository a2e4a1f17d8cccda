"""The province server over real HTTP: the index and /api/halls with each hall's figures, who may see
them, and per-hall isolation (an account bound to hall A is refused hall B's pages and API with a
403, never sent round a sign-in loop)."""

from __future__ import annotations

import pytest

from hallserver.http.auth import OTHER_HALL

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


def test_index_lists_every_hall_with_its_load(province, device):
    a_kiosk, b_kiosk, b_terminal = device(province.a, "kiosk-1"), device(province.b, "kiosk-1"), \
        device(province.b, "ct-03")
    for service in ("tu-phap", "tu-phap", "ke-hoach-dau-tu"):
        a_kiosk.request("ticket.take", {"service": service})
    b_kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    b_terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
    assert b_terminal.request("call.next")["ticket"]["number"] == "B001"

    staff = province.sign_in("province")
    halls = {h["id"]: h for h in staff.get("/api/halls").json()}
    assert list(halls) == [province.a, province.b]
    a, b = halls[province.a], halls[province.b]
    assert (a["name"], a["waiting"], a["tickets_today"], a["counters_open"], a["url"]) == \
        ("Sảnh A", 3, 3, 0, f"/h/{province.a}/")
    assert a["longest_wait_s"] >= 0 and a["available"] and a["mqtt_connected"]
    assert (b["name"], b["waiting"], b["tickets_today"], b["counters_open"], b["longest_wait_s"]) == \
        ("Sảnh B", 0, 1, 1, 0)

    page = staff.get("/")
    assert page.status_code == 200
    assert f'<tr data-hall="{province.a}">' in page.text and f'<tr data-hall="{province.b}">' in page.text
    assert 'href="/static/manager.css"' in page.text and 'src="/static/province.js"' in page.text
    assert f'<a href="/h/{province.b}/dashboard">Sảnh B</a>' in page.text
    health = province.client().get("/healthz").json()
    assert health == {"status": "ok", "halls": {province.a: {"mqtt_connected": True},
                                                 province.b: {"mqtt_connected": True}}}


def test_who_may_see_the_index(province):
    anonymous = province.client()
    r = anonymous.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/"
    r = anonymous.get("/api/halls")
    assert r.status_code == 401
    # an account bound to one hall signs in at the province and is sent on to its hall
    bound = province.sign_in("manager-a")
    r = bound.get("/")
    assert r.status_code == 303 and r.headers["location"] == f"/h/{province.a}/dashboard"
    assert bound.get(r.headers["location"]).status_code == 200
    assert bound.get("/api/halls").status_code == 403
    officer = province.sign_in("officer-p")
    r = officer.get("/")
    assert r.status_code == 403 and "cán bộ cấp tỉnh" in r.text
    assert officer.get("/api/halls").status_code == 403


def test_an_account_of_hall_a_is_refused_hall_b(province):
    bound = province.sign_in("manager-a", f"/h/{province.a}/login")
    assert bound.get(f"/h/{province.a}/dashboard").status_code == 200
    assert bound.get(f"/h/{province.a}/api/dashboard").status_code == 200
    r = bound.get(f"/h/{province.b}/dashboard")
    assert r.status_code == 403 and OTHER_HALL.split(" / ")[0] in r.text
    assert 'id="province-home"' in r.text and f'href="/h/{province.b}/static/manager.css"' in r.text
    r = bound.get(f"/h/{province.b}/api/dashboard")
    assert r.status_code == 403 and r.json() == {"detail": OTHER_HALL}
    r = bound.post(f"/h/{province.b}/api/manage/notice", json={"notice": "x"})
    assert r.status_code == 403
    assert bound.get(f"/h/{province.b}/reports").status_code == 403
    # hall B's sign-in form refuses the account (wrong hall), as a hall alone does
    form = bound.get(f"/h/{province.b}/login")
    assert form.status_code == 200
    token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = bound.post(f"/h/{province.b}/login", data={"username": "manager-a", "password": "correct horse battery",
                                                   "csrf": token})
    assert r.status_code == 401
    # the province account may use both halls
    staff = province.sign_in("province", f"/h/{province.b}/login")
    assert staff.get(f"/h/{province.a}/api/dashboard").status_code == 200
    assert staff.get(f"/h/{province.b}/api/dashboard").status_code == 200


def test_a_hall_under_its_prefix(province):
    """Redirects, the sign-in cookie and every URL of a hall's pages carry /h/{hall}."""
    a = f"/h/{province.a}"
    anonymous = province.client()
    r = anonymous.get(f"{a}/dashboard")
    assert r.status_code == 303 and r.headers["location"] == f"{a}/login?next={a}/dashboard"
    assert anonymous.get(f"{a}/api/dashboard").status_code == 401
    form = anonymous.get(f"{a}/login")
    assert f'action="{a}/login"' in form.text and f"Path={a}/login" in form.headers["set-cookie"]
    staff = province.sign_in("province", f"{a}/login")
    r = staff.get(f"{a}/login")  # signed in already: on to the landing page of the hall
    assert r.status_code == 303 and r.headers["location"] == f"{a}/dashboard"
    page = staff.get(f"{a}/dashboard").text
    assert f'data-base="{a}"' in page and f'<a href="{a}/reports"' in page and f'action="{a}/logout"' in page
    assert f'src="{a}/static/dashboard.js"' in page and 'href="/reports"' not in page
    r = staff.get(f"{a}/lang/en", params={"next": f"{a}/reports"})
    assert r.status_code == 303 and r.headers["location"] == f"{a}/reports"
    for path, asset in (("/", "/static/overview.js"), ("/screen", "/screen/static/screen.js"),
                        ("/t/abcdefghij", "/static/track.js"), ("/kiosk/kiosk-1", "/static/kiosk.js")):
        html = anonymous.get(a + path).text
        assert f'data-base="{a}"' in html and f'src="{a}{asset}"' in html, path
        assert anonymous.get(a + asset).status_code == 200
    r = staff.post(f"{a}/logout", data={"csrf": staff.get(f"{a}/api/me").json()["csrf"]})
    assert r.status_code == 303 and r.headers["location"] == f"{a}/login"
