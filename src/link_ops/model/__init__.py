"""Pure models: no ape, no web3, no network.

:mod:`~link_ops.model.rewards` (the reward model, exact to the contract), :mod:`~link_ops.model.layout`
(the packed storage words), :mod:`~link_ops.model.attest` (the bridge's EIP-712 message ids and
signatures), :mod:`~link_ops.model.chains` (the chain registry) and :mod:`~link_ops.model.partner_config`
(partner configs).
"""
