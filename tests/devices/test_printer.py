"""The ticket's bytes as a printer receives them through a pty, and the printer's DLE EOT health."""

from __future__ import annotations

import unicodedata

import pytest

from firmware.ticket_dispenser import escpos
from firmware.ticket_dispenser.printer import Printer, PrinterStatus, SerialPort
from firmware.ticket_dispenser.ticket import Layout, render

HALL = "Trung tâm Phục vụ hành chính công tỉnh"
TICKET = {"number": "B017", "service": "ke-hoach-dau-tu", "service_name": "Sở Kế hoạch và Đầu tư",
          "priority": None, "issued_at": "2026-11-23T08:15:03+07:00", "ahead": 3, "eta_min": 45,
          "track_url": "http://hall.local:8000/t/Yx3kQ9pLabcd"}


def test_raster_ticket_through_a_pty(pty_printer):
    printer = Printer(SerialPort(pty_printer.path))
    data = render(TICKET, HALL)
    printer.print_bytes(data)
    pty_printer.wait_cuts(1)
    (job,) = pty_printer.tickets()
    kinds = [k for k, _ in job]
    assert kinds[0] == "init" and kinds[-1] == "cut"
    assert ("qr", TICKET["track_url"]) in job
    rasters = [arg for k, arg in job if k == "raster"]
    assert rasters and all(w == 72 for w, _h, _d in rasters)  # 576 dots on 80 mm paper
    assert bytes(pty_printer.data) == data  # nothing added, nothing lost, nothing translated by the tty
    assert 10_000 < len(data) < 40_000
    printer.close()


def test_offline_ticket_has_no_qr_and_is_marked(pty_printer):
    offline = dict(TICKET, number="B980", ahead=None, eta_min=None, track_url=None)
    job = escpos.parse(render(offline, HALL, Layout(width=384)))
    assert not [a for k, a in job if k == "qr"]
    assert all(arg[0] == 48 for k, arg in job if k == "raster")  # 384 dots on 58 mm paper


def test_cp1258_text_mode_prints_vietnamese_in_the_code_page(pty_printer):
    printer = Printer(SerialPort(pty_printer.path))
    printer.print_bytes(render(TICKET, HALL, Layout(mode="cp1258", codepage=52)))
    pty_printer.wait_cuts(1)
    (job,) = pty_printer.tickets()
    assert ("codepage", 52) in job and ("qr", TICKET["track_url"]) in job
    text = b"".join(arg for k, arg in job if k == "text").decode("cp1258")
    text = unicodedata.normalize("NFC", text)
    for part in ("Sở Kế hoạch và Đầu tư", "SỐ THỨ TỰ", "B017", "Trước bạn: 3 người", "Trung tâm Phục vụ"):
        assert part in text
    printer.close()


@pytest.mark.parametrize(("bytes_", "expected"), [
    ({1: 0x12, 2: 0x12, 4: 0x12}, PrinterStatus("ok", "ok")),
    ({1: 0x12, 2: 0x12, 4: 0x1E}, PrinterStatus("near_end", "ok")),
    ({1: 0x1A, 2: 0x32, 4: 0x72}, PrinterStatus("out", "offline")),
    ({1: 0x1A, 2: 0x16, 4: 0x12}, PrinterStatus("ok", "cover_open")),
    ({1: 0x1A, 2: 0x52, 4: 0x12}, PrinterStatus("ok", "error")),
])
def test_dle_eot_status(pty_printer, bytes_, expected):
    pty_printer.status.update(bytes_)
    printer = Printer(SerialPort(pty_printer.path), status_timeout=2)
    status = printer.status()
    assert status == expected
    assert status.refusal == {"out": "paper_out"}.get(status.paper) or (
        "printer_error" if status.printer not in ("ok",) else None)
    printer.close()


def test_a_printer_that_does_not_answer(pty_printer):
    pty_printer.answer = False
    status = Printer(SerialPort(pty_printer.path), status_timeout=0.2).status()
    assert status == PrinterStatus("ok", "no_response") and status.refusal == "printer_error"
    assert Printer(SerialPort(pty_printer.path), query_status=False).status().refusal is None


def test_cp1258_encoding_round_trips_vietnamese():
    text = "Người cao tuổi, phụ nữ mang thai — Sở Lao động - Thương binh và Xã hội; Đắk Lắk"
    decoded = escpos.cp1258(text).decode("cp1258")
    assert unicodedata.normalize("NFC", decoded) == text.replace("—", "—")
