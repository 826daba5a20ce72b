// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title CubeNode
/// @notice The packed per-cube node data and the packed tier-rate word of {OptimizedCubeManagement}, and
/// the reward arithmetic over them. `src/link_ops/layout.py` and `src/link_ops/rewards.py` mirror this
/// file bit for bit; a property test holds them equal.
///
/// Per-cube word: the Solady ERC-721 ownership slot of the cube. Solady owns bits [0..159] (the owner) and
/// leaves the upper 96 bits ("extra data") to the collection, which keeps the node data there, so one
/// cold read and one rewrite of a single slot serve a whole claim of that cube.
/// ```
///  255            204 203             164 163  162   161    160 159                0
/// +------------------+-------------------+-------+------+------+-------------------+
/// | totalMined (52)  | lastClaimTime (40)| tier  |carried|active|    owner (160)    |
/// +------------------+-------------------+-------+------+------+-------------------+
/// ```
/// - `totalMined`: reward units (1 unit = {UNIT} wei) ever paid for this cube.
/// - `lastClaimTime`: unix seconds when accrual last (re)started (mint, claim while active, reactivation).
/// - `tier`: 0..3, selects the rate.
/// - `carried`: set when the cube holds rewards frozen at its deactivation, kept in a side mapping.
/// - `active`: only active cubes accrue.
///
/// Rates word: one storage slot read once per claim.
/// ```
///   255   254  252 251     189 188     126 125      63 62        0
/// +------+-------+---------+------------+------------+----------+
/// |paused| unused|  tier 3 |   tier 2   |   tier 1   |  tier 0  |
/// +------+-------+---------+------------+------------+----------+
///  each tier (63 bits, at 63 * tier):  [23..62] since (40)  |  [0..22] rate in units per second (23)
/// ```
/// - `since`: the time the tier's current rate took effect. A cube whose `lastClaimTime` is at or after
///   it has accrued at one rate only (the fast path); older cubes walk the tier's rate history.
library CubeNode {
    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                         CONSTANTS                          */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev Wei per reward unit. Rates are whole units per second; totals are whole units.
    uint256 internal constant UNIT = 1e12;
    /// @dev Number of tiers (ids 0 .. TIERS - 1).
    uint256 internal constant TIERS = 4;

    /// @dev Mask of the owner address (bits 0..159), owned by Solady's ERC721.
    uint256 internal constant OWNER_MASK = (1 << 160) - 1;
    /// @dev The `active` flag.
    uint256 internal constant ACTIVE_BIT = 1 << 160;
    /// @dev The `carried` flag.
    uint256 internal constant CARRIED_BIT = 1 << 161;
    /// @dev Position and width of `tier`.
    uint256 internal constant TIER_SHIFT = 162;
    uint256 internal constant TIER_MASK = (1 << 2) - 1;
    /// @dev Position and width of `lastClaimTime`.
    uint256 internal constant TIME_SHIFT = 164;
    uint256 internal constant TIME_MASK = (1 << 40) - 1;
    /// @dev Position and width of `totalMined`.
    uint256 internal constant MINED_SHIFT = 204;
    uint256 internal constant MINED_MAX = (1 << 52) - 1;

    /// @dev Rates word: the pause flag.
    uint256 internal constant PAUSED_BIT = 1 << 255;
    /// @dev Rates word: bits per tier, and the fields inside a tier's 63 bits.
    uint256 internal constant TIER_WIDTH = 63;
    uint256 internal constant RATE_MASK = (1 << 23) - 1;
    uint256 internal constant SINCE_SHIFT = 23;
    uint256 internal constant TIER_FIELD_MASK = (1 << 63) - 1;

    /// @dev The largest cube id; ids fit the seed's `uint32 cubeId`.
    uint256 internal constant MAX_CUBE_ID = type(uint32).max;

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                        RATE HISTORY                        */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev A tier's rate (units per second) from `start` on; `acc` is what one always-active cube of the
    /// tier had accrued from the tier's first checkpoint up to `start` (the tier's accumulator).
    struct RateCheckpoint {
        uint40 start;
        uint24 rate;
        uint192 acc;
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                      NODE WORD FIELDS                      */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev Node data of a freshly minted, active cube (without the owner).
    function newNode(uint256 tier, uint256 time) internal pure returns (uint96) {
        return uint96((ACTIVE_BIT | (tier << TIER_SHIFT) | (time << TIME_SHIFT)) >> 160);
    }

    function owner(uint256 word) internal pure returns (address) {
        return address(uint160(word));
    }

    function isActive(uint256 word) internal pure returns (bool) {
        return word & ACTIVE_BIT != 0;
    }

    function hasCarried(uint256 word) internal pure returns (bool) {
        return word & CARRIED_BIT != 0;
    }

    function tier(uint256 word) internal pure returns (uint256) {
        return (word >> TIER_SHIFT) & TIER_MASK;
    }

    function lastClaimTime(uint256 word) internal pure returns (uint256) {
        return (word >> TIME_SHIFT) & TIME_MASK;
    }

    function totalMined(uint256 word) internal pure returns (uint256) {
        return word >> MINED_SHIFT;
    }

    /// @dev `word` with `lastClaimTime` replaced by `time`.
    function withLastClaimTime(uint256 word, uint256 time) internal pure returns (uint256) {
        return (word & ~(TIME_MASK << TIME_SHIFT)) | (time << TIME_SHIFT);
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                      RATES WORD FIELDS                     */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev The current rate (units per second) of `t` and the time it took effect.
    function tierRate(uint256 rates, uint256 t) internal pure returns (uint256 rate, uint256 since) {
        uint256 field = (rates >> (TIER_WIDTH * t)) & TIER_FIELD_MASK;
        rate = field & RATE_MASK;
        since = field >> SINCE_SHIFT;
    }

    /// @dev `rates` with tier `t` set to `rate` units per second from `since`.
    function withTierRate(uint256 rates, uint256 t, uint256 rate, uint256 since) internal pure returns (uint256) {
        uint256 shift = TIER_WIDTH * t;
        return (rates & ~(TIER_FIELD_MASK << shift)) | (((since << SINCE_SHIFT) | rate) << shift);
    }

    /*´:°•.°+.*•´.*:˚.°*.˚•´.°:°•.°•.*•´.*:˚.°*.˚•´.°:°•.°+.*•´.*:*/
    /*                         ACCRUAL                            */
    /*.•°:°.´+˚.*°.˚:*.´•*.+°.•°:´*.´•*.•°.•°:°.´:•˚°.*°.˚:*.´+°.•*/

    /// @dev Claims, on the fast path, the cubes whose ids are the calldata words from `ptr` up to `end`,
    /// for `holder`, whose ownership slots are `base + 2 * id`. A cube is on the fast path when `holder`
    /// owns it, it is active with nothing carried, has accrued at its tier's current rate only, and its
    /// `totalMined` stays within {MINED_MAX}; each such cube's word is rewritten in place
    /// (`lastClaimTime = time`, `totalMined` increased). Stops at the first cube that is not (which the
    /// caller sends to the slow path or rejects) and returns its calldata position (`end` when all were
    /// claimed) with the units earned so far.
    /// Arithmetic cannot overflow: rate < 2^23 and elapsed < 2^40, and `units` sums fewer than 2^64 of them.
    function claimRun(uint256 ptr, uint256 end, uint256 base, uint256 rates, uint256 time, address holder)
        internal
        returns (uint256 stoppedAt, uint256 units)
    {
        /// @solidity memory-safe-assembly
        assembly {
            // The owner, active and carried bits of a fast cube, compared in one go.
            let checkMask := or(OWNER_MASK, or(ACTIVE_BIT, CARRIED_BIT))
            let expected := or(holder, ACTIVE_BIT)
            for {} lt(ptr, end) { ptr := add(ptr, 0x20) } {
                let id := calldataload(ptr)
                // Valid for ids below 2^32 only; larger ids leave the run before the word is used.
                let slot := add(base, add(id, id))
                let word := sload(slot)
                let field := and(shr(mul(TIER_WIDTH, and(shr(TIER_SHIFT, word), TIER_MASK)), rates), TIER_FIELD_MASK)
                let last := and(shr(TIME_SHIFT, word), TIME_MASK)
                let earned := mul(and(field, RATE_MASK), sub(time, last))
                if iszero(
                    and(
                        and(eq(and(word, checkMask), expected), iszero(shr(32, id))),
                        and(iszero(lt(last, shr(SINCE_SHIFT, field))), iszero(shr(52, add(shr(MINED_SHIFT, word), earned))))
                    )
                ) { break }
                // lastClaimTime moves from `last` to `time` (time >= last); totalMined grows by `earned`.
                sstore(slot, add(add(word, shl(MINED_SHIFT, earned)), shl(TIME_SHIFT, sub(time, last))))
                units := add(units, earned)
            }
            stoppedAt := ptr
        }
    }

    /// @dev Makes `rate` the tier's rate from `time` on and returns the previous one (0 for the first
    /// checkpoint). A second change within the same second replaces the rate: nothing accrued in between.
    /// The caller keeps the rates word's `since` equal to the latest checkpoint's `start`.
    function setRate(RateCheckpoint[] storage history, uint256 rate, uint256 time) internal returns (uint256 previous) {
        uint256 n = history.length;
        if (n == 0) {
            history.push(RateCheckpoint({start: uint40(time), rate: uint24(rate), acc: 0}));
            return 0;
        }
        RateCheckpoint storage last = history[n - 1];
        previous = last.rate;
        if (last.start == time) {
            last.rate = uint24(rate);
        } else {
            uint256 acc = last.acc + previous * (time - last.start);
            history.push(RateCheckpoint({start: uint40(time), rate: uint24(rate), acc: uint192(acc)}));
        }
    }

    /// @dev Units one active cube of the tier accrued from `last` to `time`, given the tier's current
    /// `rate` and its start `since` (the latest checkpoint). One multiplication when nothing changed since
    /// `last`; otherwise the difference of the tier's accumulator at `time` and at `last`.
    function accrued(RateCheckpoint[] storage history, uint256 last, uint256 rate, uint256 since, uint256 time)
        internal
        view
        returns (uint256)
    {
        if (last >= since) return rate * (time - last);
        RateCheckpoint memory at = history[checkpointAt(history, last)];
        RateCheckpoint memory latest = history[history.length - 1];
        uint256 accNow = latest.acc + rate * (time - since);
        uint256 accLast = at.acc + at.rate * (last - at.start);
        return accNow - accLast;
    }

    /// @dev Index of the last checkpoint that started at or before `time` (binary search; the first
    /// checkpoint is the deployment, before every cube).
    function checkpointAt(RateCheckpoint[] storage history, uint256 time) internal view returns (uint256 lo) {
        uint256 hi = history.length - 1;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) >> 1;
            if (history[mid].start <= time) lo = mid;
            else hi = mid - 1;
        }
    }
}
