// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeTransferLib} from "solady/src/utils/SafeTransferLib.sol";
import {ILBCBridge} from "../interfaces/IBridge.sol";
import {ILBCToken} from "../interfaces/ILBCToken.sol";
import {IMessageReceiver} from "../interfaces/IMessenger.sol";
import {BridgeBase} from "./BridgeBase.sol";

/// @title LBCBridge
/// @notice Moves LBC between chains: a lockbox at home, burn and mint elsewhere, each direction under a
/// daily limit that refills linearly. See {ILBCBridge}.
contract LBCBridge is ILBCBridge, BridgeBase {
    using SafeTransferLib for address;

    /// @dev A daily limit, one slot:
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
    Limit private _send;
    Limit private _receive;

    /// @param admin See {BridgeBase}.
    /// @param token_ The LBC token on this chain. A remote bridge needs its MINTER_ROLE.
    /// @param messenger_ The messenger.
    /// @param homeChainId_ The home chain.
    /// @param home_ Whether this is the home chain's lockbox. Limits start at zero: nothing moves until the
    /// admin sets them.
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
    function sendLimit() external view returns (uint256 max, uint256 available) {
        return (_send.max, _available(_send));
    }

    /// @inheritdoc ILBCBridge
    function receiveLimit() external view returns (uint256 max, uint256 available) {
        return (_receive.max, _available(_receive));
    }

    /// @inheritdoc ILBCBridge
    function send(uint256 dstChainId, address to, uint256 amount)
        external
        whenNotPaused
        returns (bytes32 messageId)
    {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroRecipient();
        _peerOn(dstChainId);
        _consume(_send, amount);
        if (isHome()) {
            outstanding[dstChainId] += amount;
            address(_TOKEN).safeTransferFrom(msg.sender, address(this), amount);
        } else {
            _TOKEN.burnFrom(msg.sender, amount);
        }
        messageId = _sendMessage(dstChainId, abi.encode(to, amount));
        emit LBCSent(messageId, dstChainId, msg.sender, to, amount);
    }

    /// @inheritdoc IMessageReceiver
    function receiveMessage(bytes32 messageId, uint256 srcChainId, address srcSender, bytes calldata payload)
        external
        whenNotPaused
    {
        _checkOrigin(srcChainId, srcSender);
        (address to, uint256 amount) = abi.decode(payload, (address, uint256));
        _consume(_receive, amount);
        if (isHome()) {
            uint256 out = outstanding[srcChainId];
            if (amount > out) revert ExceedsOutstanding(srcChainId, amount, out);
            outstanding[srcChainId] = out - amount;
            address(_TOKEN).safeTransfer(to, amount);
        } else {
            _TOKEN.mint(to, amount);
        }
        emit LBCReceived(messageId, srcChainId, to, amount);
    }

    /// @inheritdoc ILBCBridge
    function setLimits(uint256 newSendLimit, uint256 newReceiveLimit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLimit(_send, newSendLimit);
        _setLimit(_receive, newReceiveLimit);
        emit LimitsSet(newSendLimit, newReceiveLimit);
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
