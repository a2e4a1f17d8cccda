"""Error codes of the device contract, each with a message fit to show (Vietnamese first).

One table, shared by the server (which puts the message in ok:false replies) and the devices
(which may show a code's text when they have no reply to show, e.g. when the link is down).
"""

# code: (Vietnamese, English)
MESSAGES = {
    # malformed input (protocol level)
    "payload_too_large": ("Tin nhắn quá lớn", "Message too large"),
    "bad_encoding": ("Tin nhắn không phải UTF-8", "Message is not UTF-8"),
    "bad_json": ("Tin nhắn không phải JSON hợp lệ", "Message is not valid JSON"),
    "not_object": ("Tin nhắn phải là một đối tượng JSON", "Message must be a JSON object"),
    "bad_version": ("Phiên bản giao thức không được hỗ trợ", "Unsupported protocol version"),
    "missing_id": ("Tin nhắn thiếu mã định danh", "Message has no id"),
    "bad_id": ("Mã định danh tin nhắn không hợp lệ", "Invalid message id"),
    "unknown_type": ("Loại tin nhắn không được hỗ trợ", "Unknown message type"),
    "bad_field": ("Trường dữ liệu không hợp lệ", "Invalid field"),
    "bad_topic": ("Chủ đề MQTT không hợp lệ", "Invalid MQTT topic"),
    # who is speaking
    "unknown_device": ("Thiết bị chưa được đăng ký", "Device is not registered"),
    "wrong_device_kind": ("Thiết bị này không thực hiện được thao tác đó", "This device cannot do that"),
    # tickets
    "unknown_service": ("Dịch vụ không tồn tại", "Unknown service"),
    "unknown_priority": ("Đối tượng ưu tiên không hợp lệ", "Unknown priority category"),
    "outside_hours": ("Ngoài giờ cấp số", "Outside ticket-issuing hours"),
    "daily_cap_reached": ("Đã hết số thứ tự trong ngày", "Daily ticket limit reached"),
    "service_closed": ("Dịch vụ tạm ngừng cấp số", "Service is not issuing tickets"),
    "unknown_ticket": ("Không tìm thấy số thứ tự", "Ticket not found"),
    "already_printed": ("Số thứ tự đã được in, không hủy được", "Ticket was printed; it cannot be voided"),
    "already_called": ("Số thứ tự đã được gọi, không hủy được", "Ticket was already called; it cannot be voided"),
    "ticket_voided": ("Yêu cầu lấy số này đã bị hủy", "This ticket request was voided"),
    "not_reserved": ("Số này không thuộc khối số đã cấp cho máy", "Number is not in this device's reserved block"),
    "paper_out": ("Máy in hết giấy, vui lòng báo cán bộ", "Printer out of paper, please tell an officer"),
    "printer_error": ("Máy in đang lỗi, vui lòng báo cán bộ", "Printer fault, please tell an officer"),
    # officers and counters
    "wrong_pin": ("Sai mã cán bộ hoặc mã PIN", "Wrong officer id or PIN"),
    "too_many_attempts": ("Nhập sai quá nhiều lần, thử lại sau", "Too many attempts, try later"),
    "officer_busy": ("Cán bộ đang đăng nhập ở quầy khác", "Officer is logged in at another counter"),
    "not_logged_in": ("Chưa đăng nhập", "Not logged in"),
    "already_logged_in": ("Quầy đã có cán bộ đăng nhập", "Counter already has an officer"),
    "counter_closed": ("Quầy đang đóng", "Counter is closed"),
    "counter_paused": ("Quầy đang tạm nghỉ", "Counter is paused"),
    "counter_busy": ("Quầy đang phục vụ một số khác", "Counter is serving another ticket"),
    "no_current_ticket": ("Quầy không có số đang phục vụ", "No ticket at this counter"),
    "queue_empty": ("Không có công dân đang chờ", "No one is waiting"),
    "not_paused": ("Quầy không tạm nghỉ", "Counter is not paused"),
    "bad_transfer": ("Không chuyển được số này", "Cannot transfer this ticket"),
    "unknown_counter": ("Quầy không tồn tại", "Unknown counter"),
    "unknown_officer": ("Cán bộ không tồn tại", "Unknown officer"),
    "officer_inactive": ("Cán bộ đã ngừng hoạt động", "Officer is deactivated"),
    # ratings
    "not_armed": ("Chưa có lượt phục vụ để đánh giá", "Nothing to rate now"),
    "already_rated": ("Lượt phục vụ này đã được đánh giá", "Already rated"),
    "unknown_level": ("Mức đánh giá không hợp lệ", "Unknown rating level"),
    "unknown_reason": ("Lý do không hợp lệ", "Unknown reason"),
    # the server itself
    "server_error": ("Lỗi máy chủ, vui lòng thử lại", "Server error, please retry"),
    "unavailable": ("Hệ thống tạm thời không phục vụ được", "Service temporarily unavailable"),
    "link_down": ("MẤT KẾT NỐI", "CONNECTION LOST"),
}


def message(code, lang="vi"):
    """The text for an error code; unknown codes get the generic server text."""
    pair = MESSAGES.get(code) or MESSAGES["server_error"]
    return pair[1] if lang == "en" else pair[0]


class ProtocolError(ValueError):
    """Anything malformed: one type for every way a message or topic can be wrong."""

    def __init__(self, code, detail="", msg_id=None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        # the envelope's id, when it could be read, so the sender can still get a reply
        self.msg_id = msg_id

    def __str__(self):
        if self.detail:
            return "%s: %s" % (self.code, self.detail)
        return self.code
