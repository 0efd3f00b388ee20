"""Facts derived from the inventory that rules, the reviewer and the attack graph share.

One module per concept (workloads, exposure, identity, classification, admission, admission
controls, network reachability, node placement); the
:class:`~agents.facts.derived.Facts` of a run holds the expensive ones, computed once.
"""

from __future__ import annotations
