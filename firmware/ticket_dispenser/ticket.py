"""A ticket as printer bytes: hall name, big number, service, time, people ahead and the expected
wait, the tracking QR code, a line of guidance; offline tickets say so and have no QR code.

Vietnamese is rendered to a raster image with the bundled Be Vietnam Pro (OFL) by default, so
every diacritic prints whatever the printer's fonts; `mode="cp1258"` sends text in the printer's
Vietnamese code page instead (smaller, faster, but only on printers that have it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from firmware.ticket_dispenser import escpos

FONTS = Path(__file__).parent / "fonts"
FALLBACK_FONTS = {  # Debian's fonts-dejavu-core, when the bundled files were stripped from an install
    "regular": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "bold": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}
GUIDANCE = "Vui lòng chờ gọi số trên màn hình và loa. Xin cảm ơn!"
QR_CAPTION = "Quét mã để theo dõi lượt của bạn"
OFFLINE_LINE = "Phiếu cấp khi mất kết nối máy chủ"


@lru_cache(maxsize=32)
def font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONTS / f"BeVietnamPro-{weight.capitalize()}.ttf"
    if not path.exists():
        path = FALLBACK_FONTS[weight]
    return ImageFont.truetype(str(path), size)


@dataclass(frozen=True)
class Layout:
    width: int = 576  # dots: 576 on 80 mm paper, 384 on 58 mm
    mode: str = "raster"  # raster | cp1258
    codepage: int = 52  # ESC t n of WPC1258 (Epson's numbering; other makers differ)
    qr_module: int = 6
    partial_cut: bool = True
    guidance: str = GUIDANCE


class Canvas:
    """Lines of centred text stacked on a white strip as wide as the paper."""

    def __init__(self, width: int):
        self.width = width
        self.items: list[tuple[str, ImageFont.FreeTypeFont, int]] = []

    def text(self, text: str, weight: str = "regular", size: int = 24, gap: int = 4) -> None:
        f = font(weight, size)
        for line in self._wrap(text, f):
            self.items.append((line, f, gap))

    def space(self, height: int) -> None:
        self.items.append(("", font("regular", 8), height))

    def _wrap(self, text: str, f: ImageFont.FreeTypeFont) -> list[str]:
        lines: list[str] = []
        for word in text.split():
            if lines and f.getlength(lines[-1] + " " + word) <= self.width - 16:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines or [""]

    def image(self) -> Image.Image:
        heights = []
        for line, f, gap in self.items:
            if line:
                top, bottom = f.getbbox("ÁẬg")[1], f.getbbox("ÁẬg")[3]  # room for stacked marks
                heights.append(bottom - top + gap)
            else:
                heights.append(gap)
        img = Image.new("L", (self.width, max(1, sum(heights))), 255)
        draw = ImageDraw.Draw(img)
        y = 0
        for (line, f, _gap), h in zip(self.items, heights, strict=True):
            if line:
                top = f.getbbox("ÁẬg")[1]
                draw.text(((self.width - f.getlength(line)) / 2, y - top), line, font=f, fill=0)
            y += h
        return img


def _when(ticket: dict) -> str:
    try:
        at = datetime.fromisoformat(ticket["issued_at"])
    except (KeyError, TypeError, ValueError):
        return ""
    return at.strftime("%H:%M  %d/%m/%Y")


def _wait_line(ticket: dict) -> str:
    if ticket.get("ahead") is None:
        return OFFLINE_LINE
    eta = ticket.get("eta_min")
    line = f"Trước bạn: {ticket['ahead']} người"
    return line + (f" · Chờ khoảng {eta} phút" if eta else "")


def render(ticket: dict, hall_name: str, layout: Layout = Layout(), priority_label: str | None = None) -> bytes:
    """The whole ticket, from ESC @ to the cut. `ticket` is a ticket.take reply's `ticket` (an
    offline ticket has ahead/eta/track_url set to None)."""
    offline = ticket.get("track_url") is None
    service = ticket.get("service_name") or ticket.get("service", "")
    if layout.mode == "cp1258":
        return _render_text(ticket, hall_name, service, offline, layout, priority_label)
    top = Canvas(layout.width)
    top.text(hall_name, "bold", 24, 6)
    top.space(10)
    top.text("SỐ THỨ TỰ" + (" (NGOẠI TUYẾN)" if offline else ""), "regular", 24, 0)
    top.text(ticket["number"], "bold", 132, 8)
    top.text(service, "bold", 30, 6)
    if priority_label:
        top.text("Ưu tiên: " + priority_label, "bold", 24, 4)
    top.space(6)
    top.text(_wait_line(ticket), "regular", 24, 6)
    top.text(_when(ticket), "regular", 24, 10)
    out = escpos.INIT + escpos.align(escpos.CENTER) + escpos.raster(top.image())
    if not offline:
        out += escpos.qr(ticket["track_url"], layout.qr_module) + escpos.feed_dots(8)
        caption = Canvas(layout.width)
        caption.text(QR_CAPTION, "regular", 20, 6)
        out += escpos.raster(caption.image())
    bottom = Canvas(layout.width)
    bottom.text(layout.guidance, "regular", 22, 4)
    out += escpos.raster(bottom.image())
    return out + escpos.cut(layout.partial_cut)


def _render_text(ticket: dict, hall_name: str, service: str, offline: bool, layout: Layout,
                 priority_label: str | None) -> bytes:
    def line(text: str) -> bytes:
        return escpos.cp1258(text) + b"\n"

    out = escpos.INIT + escpos.codepage(layout.codepage) + escpos.align(escpos.CENTER)
    out += line(hall_name) + b"\n" + line("SỐ THỨ TỰ" + (" (NGOẠI TUYẾN)" if offline else ""))
    out += escpos.text_size(4, 4) + line(ticket["number"]) + escpos.text_size(1, 1)
    out += escpos.text_size(1, 2) + line(service) + escpos.text_size(1, 1)
    if priority_label:
        out += line("Ưu tiên: " + priority_label)
    out += line(_wait_line(ticket)) + line(_when(ticket))
    if not offline:
        out += escpos.qr(ticket["track_url"], layout.qr_module) + line(QR_CAPTION)
    out += line(layout.guidance)
    return out + escpos.cut(layout.partial_cut)


def preview(ticket: dict, hall_name: str, layout: Layout = Layout()) -> Image.Image:
    """What the raster parts of a ticket look like (for the README and for eyes), QR left out."""
    images = []
    for kind, arg in escpos.parse(render(ticket, hall_name, layout)):
        if kind == "raster":
            w, h, data = arg  # type: ignore[misc]
            images.append(ImageOps_invert(Image.frombytes("1", (w * 8, h), data)))
        elif kind == "feed":
            images.append(Image.new("1", (layout.width, int(arg)), 1))  # type: ignore[call-overload]
    out = Image.new("1", (layout.width, sum(i.height for i in images)), 1)
    y = 0
    for i in images:
        out.paste(i, (0, y))
        y += i.height
    return out


def ImageOps_invert(img: Image.Image) -> Image.Image:  # noqa: N802 - 1-bit images need a point map
    return img.point(lambda v: 255 - v)
