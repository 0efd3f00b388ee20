"""Public load balancers and node ports that serve a login or session application over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.classification import (
    SENSITIVE_CLASSES,
    classification_source,
    regulations_for,
)
from agents.facts.derived import Facts
from agents.facts.exposure import lb_restricted
from agents.facts.web import login_signals, port_protocol
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Confidence, Evidence, Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="architecture.front-door-without-tls",
    title="Front door serves logins or sessions over plain HTTP",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING, Stride.TAMPERING),
    likelihood=Likelihood.FOOTHOLD, impact=Impact.SYSTEM,
    description=("A public LoadBalancer or a NodePort is the application's front door, and the "
                 "port it forwards speaks plain HTTP (an HTTP port, an HTTP probe, a "
                 "SCHEME=http-style setting) while the application has logins, sessions or "
                 "classified data: passwords, session cookies and the data cross the network in "
                 "clear, readable and changeable by anyone on the path. Ingress and gateway TLS "
                 "are judged by their own rules."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.COLLECTION),
    techniques=("T1557", "T1040", "T1539"),
    references=(*refs.nsa("encryption"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Terminate TLS at the load balancer (a certificate annotation) or in the pod, "
                "or put the application behind an Ingress or gateway with TLS, and redirect "
                "plain HTTP to HTTPS.",
    false_positives="TLS terminated by a CDN or proxy in front of the load balancer that the "
                    "manifests do not show (the load balancer's own address still answers in "
                    "clear).",
    kb_topics=("ingress-tls", "loadbalancer-exposure"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag public LoadBalancers and NodePorts forwarding plain HTTP to a login application.

    An application with logins, sessions or classified data; where the forwarded port's
    protocol is not visible, the finding says so with medium confidence.
    """
    inv = facts.inventory
    for svc in inv.services:
        res = inv.get(svc.id)
        if not (svc.type == "NodePort" or (svc.type == "LoadBalancer" and not lb_restricted(res))):
            continue
        signals: list[Evidence] = []
        levels: set[str] = set()
        logins = False
        for wl_id in svc.targets:
            wl = inv.workload(wl_id)
            if wl is None:
                continue
            found = login_signals(wl)
            logins = logins or bool(found)
            signals += [located(inv, wl_id, ptr, what) for ptr, what in found[:2]]
            level = facts.classification(wl_id)
            source = classification_source(inv, wl_id)
            if level in SENSITIVE_CLASSES and level not in levels and source is not None:
                signals.append(located(inv, *source))
            if level in SENSITIVE_CLASSES:
                levels.add(level)
        if not signals and not levels:
            continue
        verdicts = [port_protocol(inv, svc, i, p) for i, p in enumerate(svc.ports)]
        plain = [v for v in verdicts if v.protocol == "plain"]
        unknown = [v for v in verdicts if v.protocol == "unknown"]
        if any(v.protocol == "tls" for v in verdicts) and not plain:
            continue
        shown = plain or unknown
        if not shown:
            continue
        what = ", ".join(sorted({*(f"{lv} data" for lv in levels),
                                 *(["logins or sessions"] if logins else [])}))
        evidence = [located(inv, svc.id, v.pointer, v.why or None) for v in shown[:2]] + signals
        yield RULE.finding(
            (svc.id, *svc.targets), evidence[:5],
            references=tuple(ref for level in sorted(levels) for ref in regulations_for(level)),
            confidence=Confidence.HIGH if plain else Confidence.MEDIUM,
            unseen="" if plain else "whether the pods serve TLS on the forwarded port",
            title=(f"{svc.type} {svc.id} serves {what} over plain HTTP ({plain[0].why})"
                   if plain else f"{svc.type} {svc.id} forwards {what} with no TLS declared"))
