"""libvirt adapter. `libvirt` is imported lazily: the rest of the portal works without it.

Connections are cached per process and URI: libvirt's test driver keeps a `test:///path.xml`
domain's state inside the connection, so a fresh connection per call would forget a suspension.
"""

import os
import threading
import xml.etree.ElementTree as ET  # noqa: S405 – XML from our own hypervisor, not from users
from datetime import UTC, datetime

from .base import DomainInfo, DomainStats, HypervisorAdapter, HypervisorError, slow_call_for_tests

_connections = {}
_uri_locks = {}
_lock = threading.Lock()

# virDomainState → our words
_STATES = {1: "running", 2: "running", 3: "paused", 4: "running", 5: "shutoff", 6: "shutoff",
           7: "paused"}  # fmt: skip


def _libvirt():
    try:
        import libvirt
    except ImportError as exc:  # pragma: no cover – only without the optional extra
        raise HypervisorError("未安裝 libvirt-python", permanent=True) from exc
    return libvirt


def _error(exc):
    libvirt = _libvirt()
    code = exc.get_error_code() if hasattr(exc, "get_error_code") else None
    permanent = code in {
        libvirt.VIR_ERR_NO_DOMAIN,
        libvirt.VIR_ERR_OPERATION_INVALID,
        libvirt.VIR_ERR_INVALID_ARG,
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_ERR_AUTH_FAILED,
    }
    return HypervisorError(f"libvirt: {exc}", permanent=permanent)


def forget_connections():
    """Tests: drop cached connections (a fresh test driver state on next use)."""
    with _lock:
        _connections.clear()


class LibvirtAdapter(HypervisorAdapter):
    name = "libvirt"

    def _conn(self):
        libvirt = _libvirt()
        key = (os.getpid(), self.uri)
        with _lock:
            # one lock per URI: a hypervisor whose open() hangs holds only its own
            uri_lock = _uri_locks.setdefault(key, threading.Lock())
        with uri_lock:
            conn = _connections.get(key)
            if conn is None or not conn.isAlive():
                try:
                    conn = libvirt.open(self.uri)
                except libvirt.libvirtError as exc:
                    raise HypervisorError(f"無法連線 {self.uri}：{exc}") from exc
                _connections[key] = conn
        return conn

    def _domain(self, uuid):
        libvirt = _libvirt()
        try:
            return self._conn().lookupByUUIDString(str(uuid))
        except libvirt.libvirtError as exc:
            raise _error(exc) from exc

    def list_domains(self):
        libvirt = _libvirt()
        try:
            return [
                DomainInfo(d.name(), d.UUIDString(), d.info()[3],
                           _STATES.get(d.state()[0], "unknown"))
                for d in self._conn().listAllDomains()
            ]  # fmt: skip
        except libvirt.libvirtError as exc:
            raise _error(exc) from exc

    def state(self, uuid):
        libvirt = _libvirt()
        try:
            return _STATES.get(self._domain(uuid).state()[0], "unknown")
        except libvirt.libvirtError as exc:
            raise _error(exc) from exc

    def stats(self):
        libvirt = _libvirt()
        out = []
        now = datetime.now(UTC)
        try:
            for dom in self._conn().listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                _state, _maxmem, _mem, vcpus, cpu_time = dom.info()
                net = 0
                root = ET.fromstring(dom.XMLDesc())  # noqa: S314
                for target in root.findall("./devices/interface/target"):
                    rx, _p, _e, _d, tx, *_ = dom.interfaceStats(target.get("dev"))
                    net += max(rx, 0) + max(tx, 0)
                out.append(DomainStats(dom.UUIDString(), vcpus, cpu_time, net, now))
        except libvirt.libvirtError as exc:
            raise _error(exc) from exc
        return out

    def suspend(self, uuid):
        libvirt = _libvirt()
        slow_call_for_tests()
        dom = self._domain(uuid)
        try:
            # check first: suspending a paused domain is an error, and "already paused" is done
            if _STATES.get(dom.state()[0]) != "paused":
                dom.suspend()
            return _STATES.get(dom.state()[0], "unknown")
        except libvirt.libvirtError as exc:
            raise _error(exc) from exc

    def resume(self, uuid):
        libvirt = _libvirt()
        slow_call_for_tests()
        dom = self._domain(uuid)
        try:
            if _STATES.get(dom.state()[0]) == "paused":
                dom.resume()
            return _STATES.get(dom.state()[0], "unknown")
        except libvirt.libvirtError as exc:
            raise _error(exc) from exc
