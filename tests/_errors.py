"""Strict custom-error assertions for the partner tests (the approach of test_cube_management's `reverts`).

`ape.reverts` lets any revert pass when it cannot decode the error, and ape 0.8 never decodes the custom
errors of view calls on anvil. `reverts` below requires the exact error name and inputs, decoding the raw
revert data itself when ape did not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from ape.exceptions import ContractLogicError, CustomError
from eth_utils import keccak
from hexbytes import HexBytes

from link_ops.contracts.errors import revert_data as library_revert_data


@dataclass
class Caught:
    error: CustomError | None = None


def revert_data(error: ContractLogicError) -> HexBytes | None:
    """The raw revert data (selector + arguments) behind `error`: link_ops's own reader, as bytes ape's
    decoders take (see :func:`link_ops.contracts.errors.revert_data` for where it looks)."""
    data = library_revert_data(error)
    return None if data is None else HexBytes(data)


@contextmanager
def reverts(expected: type[CustomError], **inputs: object) -> Iterator[Caught]:
    """Asserts that the block reverts with the custom error `expected` and exactly these `inputs`.

    `expected` is an error class taken from a contract instance (e.g. `factory.ZeroAddress`); its contract
    is used to decode raw revert data, so take it from the contract that raises (or one sharing its ABI).
    """
    caught = Caught()
    with pytest.raises(ContractLogicError) as excinfo:
        yield caught
    error = excinfo.value
    # ape decodes a failed deployment with whatever contract it last saw at the would-be address (another
    # test's, since snapshots revert the chain but not ape's cache): decode again with the expected ABI.
    if not isinstance(error, CustomError) or type(error).__name__ != expected.__name__:
        data = revert_data(error)
        assert data is not None, (
            f"expected {expected.__name__}, but the revert carries no error data: {error!r}"
        )
        contract = expected.contract  # type: ignore[attr-defined]
        # Decode with the expected contract's own ABI, not ape's per-address cache.
        errors = contract.contract_type.errors
        assert data[:4] in errors, f"expected {expected.__name__}, got undecodable revert data {data.hex()}"
        abi = errors[data[:4]]
        inputs = contract.provider.network.ecosystem.decode_calldata(abi, data[4:])
        error = contract.get_error_by_signature(abi.signature)(abi, inputs)
    assert type(error).__name__ == expected.__name__, f"expected {expected.__name__}, got {error!r}"
    assert dict(error.inputs) == inputs
    caught.error = error


@contextmanager
def reverts_with_selector(signature: str) -> Iterator[None]:
    """Asserts a revert whose data is exactly the no-argument error `signature` (e.g. a Solady library
    error such as `TransferFromFailed()`, which is in no contract's ABI)."""
    with pytest.raises(ContractLogicError) as excinfo:
        yield
    data = revert_data(excinfo.value)
    assert data == HexBytes(keccak(text=signature)[:4]), f"expected {signature}, got {excinfo.value!r}"
