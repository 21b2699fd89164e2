"""Every climate test runs with the network cut: FaIR must find everything it needs in the shipped tables."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a climate run tried to reach the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    import pooch

    monkeypatch.setattr(pooch, "retrieve", refuse)
