"""link-ops: the operations toolkit of the L.I.N.K Protocol.

Pure modules (no ape, no network): :mod:`link_ops.rewards` (the reward model), :mod:`link_ops.layout`
(the packed storage layouts). Chain-facing: :mod:`link_ops.deploy`. Records: :mod:`link_ops.deployments`.
"""

__version__ = "0.1.0"
