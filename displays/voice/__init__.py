"""Vietnamese call announcements: text from per-hall templates, clips (chime + speech, cached),
a queue that never overlaps, and the announcer agent for a Pi with a speaker.

Public surface: `VoiceConfig`, `spoken`, `ClipBuilder`, `AnnouncementQueue`, `Aplay`, `Announcer`
(this last one imports paho: import it from `displays.voice.announcer`).
"""

from displays.voice.clips import ClipBuilder
from displays.voice.config import Spoken, VoiceConfig, spoken
from displays.voice.player import AnnouncementQueue, Aplay

__all__ = ["AnnouncementQueue", "Aplay", "ClipBuilder", "Spoken", "VoiceConfig", "spoken"]
