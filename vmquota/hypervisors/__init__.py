"""Hypervisor adapters: one interface (base.py), chosen by VMQUOTA_HYPERVISOR_ADAPTER."""

from .base import DomainInfo, DomainStats, HypervisorAdapter, HypervisorError, get_adapter

__all__ = ["DomainInfo", "DomainStats", "HypervisorAdapter", "HypervisorError", "get_adapter"]
