"""The staffing advice as a Vietnamese report for the hall manager (plain text, fit for printing)."""

from __future__ import annotations

from datetime import date

from hallserver.domain.config import HallConfig

THU = {"mon": "Thứ Hai", "tue": "Thứ Ba", "wed": "Thứ Tư", "thu": "Thứ Năm", "fri": "Thứ Sáu", "sat": "Thứ Bảy",
       "sun": "Chủ Nhật"}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%".replace(".", ",")


def _num(x: float | None, nd: int = 1) -> str:
    return "—" if x is None else f"{x:.{nd}f}".replace(".", ",")


def _name(config: HallConfig, code: str) -> str:
    svc = config.services.get(code)
    return svc.name if svc else code


def render(config: HallConfig, advice: dict, day: date | None = None) -> str:
    hours = advice["hours"]
    t = advice["target"]
    when = THU[advice["weekday"]] + (f", ngày {day:%d/%m/%Y}" if day else "")
    if advice["source"] == "history":
        basis = f"ước lượng từ dữ liệu {advice['days_observed']} ngày {THU[advice['weekday']]} gần nhất của trung tâm"
    else:
        basis = "theo tải mẫu (trung tâm chưa có đủ dữ liệu lịch sử)"
    lines = [
        f"BÁO CÁO ĐỀ XUẤT BỐ TRÍ CÁN BỘ — {config.name}",
        f"Áp dụng cho: {when}",
        f"Căn cứ: {basis}; dự kiến {_num(advice['tickets'], 0)} lượt công dân.",
        f"Mục tiêu: {_pct(t['sl'])} công dân được gọi trong thời gian chờ mục tiêu của lĩnh vực; "
        f"mỗi quầy bận không quá {_pct(t['max_occupancy'])} thời gian.",
        "",
        "1. Số quầy cần theo giờ nếu mỗi lĩnh vực có hàng đợi riêng (Erlang C)",
    ]
    head = f"{'Lĩnh vực':<46}" + "".join(f"{h:>4}h" for h in hours) + "  giờ công"
    lines += [head, "-" * len(head)]
    for row in advice["dedicated"].values():
        per = {int(h): v["counters"] for h, v in row["hours"].items()}
        lines.append(f"{row['name'][:45]:<46}" + "".join(f"{per.get(h, 0):>5}" for h in hours)
                     + f"{sum(per.values()):>10}")
    oh = advice["officer_hours"]
    lines += [f"{'Tổng':<46}" + " " * 5 * len(hours) + f"{oh['dedicated']:>10}", "",
              "2. Đề xuất ghép quầy theo chuỗi (mỗi cán bộ được đào tạo thêm một lĩnh vực)"]
    for link in advice["chain"]["links"]:
        per = {int(h): n for h, n in link["hours"].items()}
        if not per:
            continue
        names = [_name(config, s) for s in link["services"]]
        what = names[0] if len(names) == 1 else f"{names[0]} + nhận thêm hồ sơ {names[1]}"
        spread = ", ".join(f"{h}h: {n}" for h, n in sorted(per.items()))
        lines.append(f"- {what}: {spread} (quầy)")
    lines += [
        "",
        "3. Giờ công cán bộ trong ngày",
        f"- Mỗi lĩnh vực một hàng đợi riêng: {oh['dedicated']}",
        f"- Ghép quầy theo chuỗi: {oh['chain']}",
        f"- Mỗi lĩnh vực một quầy cả ngày: {oh['one_desk_per_department']}",
        f"- Mở tất cả {len(config.counters)} quầy cả ngày: {oh['all_counters']}",
        f"- Giới hạn lý thuyết khi mọi quầy nhận mọi lĩnh vực: {oh['full_pooling_floor']}",
    ]
    if oh["dedicated"]:
        saving = 1 - oh["chain"] / oh["dedicated"]
        lines.append(f"Ghép quầy theo chuỗi tiết kiệm {_pct(saving)} giờ công so với hàng đợi riêng.")
    checks = advice.get("check", {})
    if checks:
        lines += ["", "4. Kiểm tra bằng mô phỏng cả ngày (bộ máy xếp hàng thật, cùng lượng công dân)"]
        labels = {"dedicated": "Hàng đợi riêng", "chain": "Ghép quầy theo chuỗi"}
        for key, c in checks.items():
            verdict = "ĐẠT" if c["meets_target"] else "CHƯA ĐẠT"
            lines.append(f"- {labels.get(key, key)} ({c['days']} ngày mô phỏng): chờ trung bình "
                         f"{_num(c['mean_wait_min'])} phút, 90% chờ không quá {_num(c['p90_wait_min'])} phút, "
                         f"{_pct(c['within_target'])} được gọi trong thời gian mục tiêu — {verdict}")
        extra = advice["chain"].get("extra_from_check") or {}
        if extra:
            lines.append("  Mô phỏng cho thấy cần thêm quầy vào các giờ: "
                         + ", ".join(f"{h}h (+{n})" for h, n in sorted((int(h), n) for h, n in extra.items()))
                         + "; đã cộng vào đề xuất ghép quầy.")
    return "\n".join(lines) + "\n"
