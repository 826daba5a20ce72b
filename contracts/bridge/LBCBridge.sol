// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeTransferLib} from "solady/src/utils/SafeTransferLib.sol";
import {ILBCBridge} from "../interfaces/IBridge.sol";
import {ILBCToken} from "../interfaces/ILBCToken.sol";
import {BridgeBase} from "./BridgeBase.sol";

/// @title LBCBridge
/// @notice Moves LBC between chains: a lockbox at home, burn and mint elsewhere, each route and direction
/// under its own limit that refills linearly. See {ILBCBridge}.
/// @dev Payload: `abi.encode(kind, nonce, from, to, amount)`.
contract LBCBridge is ILBCBridge, BridgeBase {
    using SafeTransferLib for address;

    /// @dev A limit, one slot:
    ///
    ///  255          208 207                 104 103                    0
    /// | updatedAt (48) |    available (104)    |        max (104)        |
    ///
    /// `available` is what was left at `updatedAt`; it refills at `max` per day, up to `max`.
    struct Limit {
        uint104 max;
        uint104 available;
        uint48 updatedAt;
    }

    uint256 private constant _REFILL_PERIOD = 1 days;

    ILBCToken private immutable _TOKEN;
    /// @inheritdoc ILBCBridge
    mapping(uint256 chainId => uint256) public outstanding;
    mapping(uint256 chainId => Limit) private _sendLimits;
    mapping(uint256 chainId => Limit) private _receiveLimits;

    /// @param admin See {BridgeBase}.
    /// @param token_ The LBC token on this chain. A remote bridge needs its MINTER_ROLE.
    /// @param messenger_ The messenger.
    /// @param homeChainId_ The home chain.
    /// @param home_ Whether this is the home chain's lockbox. Limits start at zero: nothing moves on a
    /// route until the admin sets its limits.
    constructor(address admin, address token_, address messenger_, uint256 homeChainId_, bool home_)
        BridgeBase(admin, messenger_, homeChainId_, home_)
    {
        if (token_.code.length == 0) revert InvalidAddress();
        _TOKEN = ILBCToken(token_);
    }

    /// @inheritdoc ILBCBridge
    function token() external view returns (address) {
        return address(_TOKEN);
    }

    /// @inheritdoc ILBCBridge
    function sendLimit(uint256 chainId) external view returns (uint256 max, uint256 available) {
        Limit storage limit = _sendLimits[chainId];
        return (limit.max, _available(limit));
    }

    /// @inheritdoc ILBCBridge
    function receiveLimit(uint256 chainId) external view returns (uint256 max, uint256 available) {
        Limit storage limit = _receiveLimits[chainId];
        return (limit.max, _available(limit));
    }

    /// @inheritdoc ILBCBridge
    function send(uint256 dstChainId, address to, uint256 amount)
        external
        whenNotPaused
        returns (bytes32 messageId)
    {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroRecipient();
        address dstBridge = _peerOn(dstChainId);
        _consume(_sendLimits[dstChainId], amount);
        if (isHome()) {
            outstanding[dstChainId] += amount;
            address(_TOKEN).safeTransferFrom(msg.sender, address(this), amount);
        } else {
            _TOKEN.burnFrom(msg.sender, amount);
        }
        uint64 nonce = _useNonce();
        bytes32 id;
        (id, messageId) = _dispatch(dstChainId, dstBridge, nonce, abi.encode(_TRANSFER, nonce, msg.sender, to, amount));
        emit LBCSent(id, dstChainId, msg.sender, to, amount, messageId);
    }

    /// @inheritdoc ILBCBridge
    function setLimits(uint256 chainId, uint256 newSendLimit, uint256 newReceiveLimit)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setLimit(_sendLimits[chainId], newSendLimit);
        _setLimit(_receiveLimits[chainId], newReceiveLimit);
        emit LimitsSet(chainId, newSendLimit, newReceiveLimit);
    }

    /// @dev An arrival from `srcChainId`: within the route's receive limit, released (home) or minted.
    function _execute(uint256 srcChainId, bytes32 id, bytes calldata payload) internal override {
        (,,, address to, uint256 amount) = abi.decode(payload, (uint256, uint64, address, address, uint256));
        _consume(_receiveLimits[srcChainId], amount);
        _pay(srcChainId, to, amount);
        emit LBCReceived(id, srcChainId, to, amount);
    }

    /// @dev A transfer to `dstChainId` refunded: what left is paid back to its sender, outside the limits
    /// (the outbox commitment bounds it).
    function _refund(uint256 dstChainId, bytes32, bytes calldata payload) internal override {
        (,, address from,, uint256 amount) = abi.decode(payload, (uint256, uint64, address, address, uint256));
        _pay(dstChainId, from, amount);
    }

    /// @dev Home: the LBC that chain `chainId` held returns to `to`. Remote: minted to `to`.
    function _pay(uint256 chainId, address to, uint256 amount) private {
        if (isHome()) {
            uint256 out = outstanding[chainId];
            if (amount > out) revert ExceedsOutstanding(chainId, amount, out);
            outstanding[chainId] = out - amount;
            address(_TOKEN).safeTransfer(to, amount);
        } else {
            _TOKEN.mint(to, amount);
        }
    }

    /// @dev At home the LBC abroad is locked here: only what exceeds it can be rescued.
    function _reserved(address token_) internal view override returns (uint256 locked) {
        if (token_ != address(_TOKEN) || !isHome()) return 0;
        uint256 count = _routes.length;
        for (uint256 i; i < count; ++i) {
            locked += outstanding[_routes[i]];
        }
    }

    function _available(Limit storage limit) private view returns (uint256) {
        uint256 max = limit.max;
        uint256 refilled = limit.available + (block.timestamp - limit.updatedAt) * max / _REFILL_PERIOD;
        return refilled < max ? refilled : max;
    }

    function _consume(Limit storage limit, uint256 amount) private {
        uint256 available = _available(limit);
        if (amount > available) revert LimitExceeded(amount, available);
        limit.available = uint104(available - amount);
        limit.updatedAt = uint48(block.timestamp);
    }

    function _setLimit(Limit storage limit, uint256 newMax) private {
        if (newMax > type(uint104).max) revert LimitTooHigh(newMax);
        uint256 oldMax = limit.max;
        uint256 available = _available(limit);
        if (newMax >= oldMax) {
            available += newMax - oldMax;
        } else {
            uint256 cut = oldMax - newMax;
            available = available > cut ? available - cut : 0;
        }
        limit.max = uint104(newMax);
        limit.available = uint104(available < newMax ? available : newMax);
        limit.updatedAt = uint48(block.timestamp);
    }
}
