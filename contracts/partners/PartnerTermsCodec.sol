// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LibBit} from "solady/src/utils/LibBit.sol";

/// @title PartnerTermsCodec
/// @notice The runtime code of a partner clone: an ERC-1167 minimal proxy to the PartnerBenefits
/// implementation followed by the partner's terms (Solady LibClone's "clone with immutable args" layout,
/// so `LibClone.argsOnClone` reads them too). Terms live in code, not storage: writing them costs 200 gas
/// a byte once, so names are stored short (a length byte and the name's bytes), and reading them is a warm
/// EXTCODECOPY of the clone's own code.
/// ```
///  code 0x00..0x2c: ERC-1167 proxy (45 bytes); the terms follow, at these offsets from 0x2d:
///  0x00 partner (20)  | 0x14 welcomeToken (20) | 0x28 welcomeAmountPerCube (12) | 0x34 snapshotCubeId (4)
///  0x38 claimDeadline (5) | 0x3d discountBps of tiers 0..3 (4 x 2)
///  0x45 partnerId: length (1) + bytes | serviceCount (1) | each service: length (1) + bytes
/// ```
/// A name is a bytes32 holding UTF-8 text left-aligned and zero-padded; its length is 32 minus its trailing
/// zero bytes.
library PartnerTermsCodec {
    /// @dev Where the terms start in the clone's code.
    uint256 internal constant ARGS = 0x2d;
    uint256 internal constant PARTNER = 0x00;
    uint256 internal constant WELCOME_TOKEN = 0x14;
    uint256 internal constant WELCOME_AMOUNT = 0x28;
    uint256 internal constant SNAPSHOT = 0x34;
    uint256 internal constant DEADLINE = 0x38;
    uint256 internal constant DISCOUNTS = 0x3d;
    uint256 internal constant PARTNER_ID = 0x45;

    /// @dev The clone's runtime code for `implementation` and the given terms.
    function runtime(
        address implementation,
        bytes32 partnerId,
        address partner,
        address welcomeToken,
        uint96 welcomeAmountPerCube,
        uint32 snapshotCubeId,
        uint40 claimDeadline,
        uint16[4] calldata discountBps,
        bytes32[] calldata services
    ) internal pure returns (bytes memory out) {
        out = abi.encodePacked(
            hex"363d3d373d3d3d363d73",
            implementation,
            hex"5af43d82803e903d91602b57fd5bf3",
            abi.encodePacked(partner, welcomeToken, welcomeAmountPerCube, snapshotCubeId, claimDeadline),
            abi.encodePacked(discountBps[0], discountBps[1], discountBps[2], discountBps[3])
        );
        // Append the names in place: `out` is the newest allocation, so the memory after it is free.
        uint256 p;
        /// @solidity memory-safe-assembly
        assembly {
            p := add(add(out, 0x20), mload(out))
        }
        p = _appendName(p, partnerId);
        /// @solidity memory-safe-assembly
        assembly {
            mstore8(p, services.length)
            p := add(p, 1)
        }
        for (uint256 i; i < services.length; ++i) {
            p = _appendName(p, services[i]);
        }
        /// @solidity memory-safe-assembly
        assembly {
            mstore(out, sub(p, add(out, 0x20)))
            mstore(0x40, and(add(p, 0x3f), not(0x1f))) // Allocate, with a spare word for the last write.
        }
    }

    /// @dev The `size`-byte big-endian field at `offset` of the calling clone's terms (size 1..32).
    function read(uint256 offset, uint256 size) internal view returns (uint256 value) {
        /// @solidity memory-safe-assembly
        assembly {
            // Scratch space only: 0x00..0x1f.
            extcodecopy(address(), 0x00, add(ARGS, offset), 0x20)
            value := shr(sub(256, shl(3, size)), mload(0x00))
        }
    }

    /// @dev The name stored at `offset` of the calling clone's terms, and the offset after it.
    function readName(uint256 offset) internal view returns (bytes32 name, uint256 next) {
        uint256 length = read(offset, 1);
        /// @solidity memory-safe-assembly
        assembly {
            extcodecopy(address(), 0x00, add(ARGS, add(offset, 1)), 0x20)
            // Keep the first `length` bytes (the code past the name may follow them).
            name := and(mload(0x00), not(shr(shl(3, length), not(0))))
        }
        next = offset + 1 + length;
    }

    /// @dev Writes `name` as a length byte and its bytes at `p`; returns the position after it. Writes a
    /// whole word: the bytes past the name are zero and later writes overwrite them.
    function _appendName(uint256 p, bytes32 name) private pure returns (uint256) {
        uint256 length = name == bytes32(0) ? 0 : 32 - (LibBit.ffs(uint256(name)) >> 3);
        /// @solidity memory-safe-assembly
        assembly {
            mstore8(p, length)
            mstore(add(p, 1), name)
        }
        return p + 1 + length;
    }
}
