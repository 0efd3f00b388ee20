"""Framework reference ids and ATT&CK ids shared by the rules (facts, versioned by prefix).

Reference strings are ``<FRAMEWORK>-<version>:<control>``. The prefixes are fixed here so that
the catalogue test can refuse anything else, and the compliance summary can group by them.
CIS section numbers are those of CIS Kubernetes Benchmark v1.10; OWASP Kubernetes Top 10 ids are
given in both the 2022 and the 2025 numbering.
"""

from __future__ import annotations

__all__ = [
    "ADMISSION",
    "AUDIT",
    "AUTHN",
    "CLOUD",
    "EXPOSED",
    "FRAMEWORK_NAMES",
    "NETWORK",
    "POLICY",
    "RBAC",
    "SECRETS",
    "SUPPLY_CHAIN",
    "TA",
    "WORKLOAD",
    "cis",
    "framework_of",
    "nsa",
    "pss",
]

#: Every reference prefix a rule may use, with the framework's display name.
FRAMEWORK_NAMES: dict[str, str] = {
    "CIS-1.10": "CIS Kubernetes Benchmark v1.10",
    "NSA-CISA-1.2": "NSA/CISA Kubernetes Hardening Guidance v1.2",
    "OWASP-K8S-2022": "OWASP Kubernetes Top 10 (2022)",
    "OWASP-K8S-2025": "OWASP Kubernetes Top 10 (2025 draft)",
    "PSS": "Kubernetes Pod Security Standards",
    "PCI-DSS-4.0": "PCI DSS v4.0",
    "GDPR": "EU General Data Protection Regulation",
}


def framework_of(reference: str) -> str | None:
    """The framework prefix of a reference string, or None when it has none we know."""
    prefix, sep, control = reference.partition(":")
    return prefix if sep and control and prefix in FRAMEWORK_NAMES else None


def cis(*sections: str) -> tuple[str, ...]:
    """CIS Kubernetes Benchmark v1.10 references."""
    return tuple(f"CIS-1.10:{s}" for s in sections)


def nsa(*sections: str) -> tuple[str, ...]:
    """NSA/CISA Kubernetes Hardening Guidance v1.2 references (by section topic)."""
    return tuple(f"NSA-CISA-1.2:{s}" for s in sections)


def pss(*controls: str) -> tuple[str, ...]:
    """Pod Security Standards references, ``level/control``."""
    return tuple(f"PSS:{c}" for c in controls)


# OWASP Kubernetes Top 10, both editions.
WORKLOAD = ("OWASP-K8S-2022:K01", "OWASP-K8S-2025:K01")
SUPPLY_CHAIN = ("OWASP-K8S-2022:K02",)
RBAC = ("OWASP-K8S-2022:K03", "OWASP-K8S-2025:K02")
POLICY = ("OWASP-K8S-2022:K04", "OWASP-K8S-2025:K04")
AUDIT = ("OWASP-K8S-2022:K05", "OWASP-K8S-2025:K10")
AUTHN = ("OWASP-K8S-2022:K06", "OWASP-K8S-2025:K09")
NETWORK = ("OWASP-K8S-2022:K07", "OWASP-K8S-2025:K05")
SECRETS = ("OWASP-K8S-2022:K08", "OWASP-K8S-2025:K03")
EXPOSED = ("OWASP-K8S-2025:K06",)
ADMISSION = ("OWASP-K8S-2022:K09", "OWASP-K8S-2025:K07")
CLOUD = ("OWASP-K8S-2025:K08",)


class TA:
    """MITRE ATT&CK tactic ids."""

    INITIAL_ACCESS = "TA0001"
    EXECUTION = "TA0002"
    PERSISTENCE = "TA0003"
    PRIVILEGE_ESCALATION = "TA0004"
    DEFENSE_EVASION = "TA0005"
    CREDENTIAL_ACCESS = "TA0006"
    DISCOVERY = "TA0007"
    LATERAL_MOVEMENT = "TA0008"
    COLLECTION = "TA0009"
    EXFILTRATION = "TA0010"
    IMPACT = "TA0040"
