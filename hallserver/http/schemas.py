"""API response shapes, apart from tables and engine objects (a PIN hash can never leak)."""

from __future__ import annotations

from pydantic import BaseModel


class ServiceOut(BaseModel):
    code: str
    name: str
    name_en: str
    prefix: str
    daily_cap: int | None
    target_wait_min: int
    enabled: bool


class CounterOut(BaseModel):
    number: int
    name: str
    kind: str
    services: list[str]


class DeviceOut(BaseModel):
    id: str
    kind: str
    counter: int | None


class OfficerOut(BaseModel):
    id: str
    name: str


class LevelOut(BaseModel):
    key: str
    label: str
    label_en: str


class HallOut(BaseModel):
    id: str
    name: str
    name_en: str
    services: list[ServiceOut]
    counters: list[CounterOut]
    devices: list[DeviceOut]
    officers: list[OfficerOut]
    rating_levels: list[LevelOut]
    rating_reasons: list[LevelOut]
    priority_categories: list[LevelOut]


class QueueOut(BaseModel):
    service: str
    name: str
    prefix: str
    waiting: int
    longest_wait_s: int
    eta_min: int
    issued: int
    counters_open: int


class TicketOut(BaseModel):
    number: str
    service: str
    service_name: str
    status: str
    priority: str | None
    issued_at: str
    ahead: int
    eta_min: int
    counter: int | None
    called_at: str | None
    recalls: int
    waited_s: int


class ErrorOut(BaseModel):
    detail: str


class TrackOut(BaseModel):
    """A ticket as its holder's phone sees it: nothing about the person (not even a priority
    category) and nothing about other citizens but how many are ahead."""

    number: str
    service: str
    service_name: str
    status: str
    issued_at: str
    ahead: int
    eta_min: int
    counter: int | None
    counter_name: str | None
    called_at: str | None
    recalls: int
    waited_s: int


class TrackErrorOut(BaseModel):
    detail: str
    code: str  # invalid | unknown | expired
