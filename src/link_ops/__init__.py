"""link-ops: the operations toolkit of the L.I.N.K Protocol.

The package mirrors the protocol (see ARCHITECTURE in the README):

- :mod:`link_ops.contracts`: the compiled contracts shipped with the package (``abi``, ``contract_type``,
  ``at``); the only place chain-facing code gets contract types from;
- :mod:`link_ops.model`: pure (no ape, no web3, no network): the reward model, the packed layouts, the
  bridge's message ids and the chain registry;
- :mod:`link_ops.protocol`: deploy and load the core (LBC, CUBE, the partner factory) and its records;
- :mod:`link_ops.partners`: partner configs, integration checks and onboarding;
- :mod:`link_ops.bridge`: deploy and wire bridge sides, send, relay;
- :mod:`link_ops.store`: the operations database (partner records, relayer cursors and messages);
- :mod:`link_ops.gas`: the gas benchmark, its report and snapshot;
- :mod:`link_ops.cli`: what the ``ape run`` scripts share (options, console, error presentation);
- :mod:`link_ops.testing`: pytest plugins, local chains, demos; the library never imports it.

Importing ``link_ops`` imports nothing else: ``import link_ops.model.rewards`` stays ape-free.
"""
