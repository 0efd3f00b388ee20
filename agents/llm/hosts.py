"""The offline guarantee: a model host must resolve to loopback or private addresses."""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from workflow.domain.errors import ConfigError

__all__ = [
    "DEFAULT_OLLAMA_HOST",
    "check_model_host",
    "normalise_host",
]

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"

#: Networks a model host may resolve to without --allow-remote-model.
_LOCAL_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))
_UNSPECIFIED = frozenset({ipaddress.ip_address(0), ipaddress.IPv6Address(0)})


def normalise_host(host: str | None) -> str:
    """The model host as a base URL (``scheme://host:port[/path]``), as the ollama client reads it.

    ``None`` or an empty string means ``$OLLAMA_HOST``, else ``http://127.0.0.1:11434``; a bare
    ``host`` or ``host:port`` gets ``http://`` and port 11434.
    """
    raw = (host or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST).strip()
    scheme, has_scheme, rest = "http", False, raw
    if "://" in raw:
        scheme, rest = raw.split("://", 1)
        has_scheme = True
    if scheme not in ("http", "https"):
        raise ConfigError(f"model host {raw!r} must use http or https")
    parts = urlsplit(f"{scheme}://{rest}")
    name = parts.hostname or "127.0.0.1"
    try:
        explicit_port = parts.port
    except ValueError:
        raise ConfigError(f"model host {raw!r} has an invalid port") from None
    default_port = (443 if scheme == "https" else 80) if has_scheme else 11434
    port = explicit_port or default_port
    shown = f"[{name}]" if ":" in name else name
    path = parts.path.rstrip("/")
    return f"{scheme}://{shown}:{port}{path}"


def _addresses(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(name)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(f"model host {name!r} cannot be resolved") from None
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        found.append(ipaddress.ip_address(text))
    return found


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _UNSPECIFIED:
        return True
    return any(address.version == net.version and address in net for net in _LOCAL_NETWORKS)


def check_model_host(host: str | None, *, allow_remote: bool = False) -> str:
    """Normalise ``host`` and refuse it unless every address it resolves to is local.

    Local means loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7) or
    unspecified (0.0.0.0, ::, which connect to this machine).

    Args:
        host: a URL, ``host:port`` or host name; None reads ``OLLAMA_HOST``.
        allow_remote: skip the check (``--allow-remote-model``).

    Returns:
        The normalised base URL.

    Raises:
        ConfigError: with a one-line message when the host is remote or cannot be resolved.
    """
    url = normalise_host(host)
    if allow_remote:
        return url
    name = urlsplit(url).hostname or ""
    remote = sorted({str(a) for a in _addresses(name) if not _is_local(a)})
    if remote:
        raise ConfigError(
            f"model host {url} is not a loopback or private address ({', '.join(remote)}); "
            "pass --allow-remote-model to use it")
    return url
