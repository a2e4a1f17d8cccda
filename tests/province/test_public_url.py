"""The tracking link of a province's hall reaches its pages under /h/{hall}: derived from the
province's (or the hall file's) address unless the hall entry sets its own."""

from __future__ import annotations

from hallserver.province import hall_public_url, load_province
from hallserver.settings import DEMO_CONFIG


def test_hall_public_url():
    assert hall_public_url("https://tinh.example/", "xa-a") == "https://tinh.example/h/xa-a"
    assert hall_public_url("https://tinh.example/hang-doi", "xa-a") == "https://tinh.example/hang-doi/h/xa-a"
    assert hall_public_url("https://tinh.example/h/xa-a", "xa-a") == "https://tinh.example/h/xa-a"


def test_province_file_derives_each_halls_public_url(tmp_path):
    path = tmp_path / "province.toml"
    path.write_text(f'[province]\nid = "tinh"\npublic_url = "https://hangdoi.tinh.example"\n\n'
                    f'[[halls]]\nconfig = "{DEMO_CONFIG}"\nid = "xa-a"\n\n'
                    f'[[halls]]\nconfig = "{DEMO_CONFIG}"\nid = "xa-b"\npublic_url = "http://10.0.0.9:8000"\n',
                    encoding="utf-8")
    urls = {h.config.id: h.config.public_url for h in load_province(path).halls}
    assert urls == {"xa-a": "https://hangdoi.tinh.example/h/xa-a", "xa-b": "http://10.0.0.9:8000"}
    path.write_text(f'[province]\nid = "tinh"\n\n[[halls]]\nconfig = "{DEMO_CONFIG}"\nid = "xa-a"\n', encoding="utf-8")
    (hall,) = load_province(path).halls  # no province address: the hall file's, with the prefix
    assert hall.config.public_url == "http://127.0.0.1:8000/h/xa-a"
    assert load_province(DEMO_CONFIG).halls[0].config.public_url == "http://127.0.0.1:8000"  # one hall: as it is
