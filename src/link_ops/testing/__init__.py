"""Support for tests and demos, never imported by the library itself.

:func:`isolated` runs a block from a chain snapshot and goes back afterwards, re-raising whatever happened
inside (ape 0.8.51's own ``isolate`` context manager swallows it).
"""

from link_ops.testing.isolation import IsolationError, isolated

__all__ = ["IsolationError", "isolated"]
