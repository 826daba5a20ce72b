// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "solady/src/tokens/ERC721.sol";
import {LibString} from "solady/src/utils/LibString.sol";
import {IRemoteCube} from "../interfaces/IBridge.sol";

/// @title RemoteCube
/// @notice A CUBE away from home, minted and burnt by its bridge. See {IRemoteCube}.
/// @dev Solady's transfer and approval entry points are payable; here they are not (nothing could ever
/// send native value on, and a value sent by mistake would be lost). The cube's data lives in the 96 extra bits of Solady's ownership slot:
///
///  95                              2 1     0
/// |        totalMined, wei (94)      | tier |
contract RemoteCube is IRemoteCube, ERC721 {
    /// @inheritdoc IRemoteCube
    address public immutable bridge;
    string private _baseURI;

    constructor(address bridge_, string memory baseURI_) {
        bridge = bridge_;
        _baseURI = baseURI_;
    }

    modifier onlyBridge() {
        if (msg.sender != bridge) revert NotBridge(msg.sender);
        _;
    }

    function name() public pure override returns (string memory) {
        return "L.I.N.K CUBE (bridged)";
    }

    function symbol() public pure override returns (string memory) {
        return "CUBE";
    }

    function tokenURI(uint256 cubeId) public view override returns (string memory) {
        if (!_exists(cubeId)) revert TokenDoesNotExist();
        return bytes(_baseURI).length == 0 ? "" : string.concat(_baseURI, LibString.toString(cubeId));
    }

    /// @notice Solady's `approve`, refusing native value.
    function approve(address account, uint256 id) public payable override {
        _refuseValue();
        super.approve(account, id);
    }

    /// @notice Solady's `transferFrom`, refusing native value.
    function transferFrom(address from, address to, uint256 id) public payable override {
        _refuseValue();
        super.transferFrom(from, to, id);
    }

    /// @notice Solady's `safeTransferFrom`, refusing native value.
    function safeTransferFrom(address from, address to, uint256 id) public payable override {
        _refuseValue();
        super.safeTransferFrom(from, to, id);
    }

    /// @notice Solady's `safeTransferFrom` with data, refusing native value.
    function safeTransferFrom(address from, address to, uint256 id, bytes calldata data)
        public
        payable
        override
    {
        _refuseValue();
        super.safeTransferFrom(from, to, id, data);
    }

    /// @inheritdoc IRemoteCube
    function tierOf(uint256 cubeId) external view returns (uint8) {
        if (!_exists(cubeId)) revert TokenDoesNotExist();
        return uint8(_getExtraData(cubeId) & 3);
    }

    /// @inheritdoc IRemoteCube
    function totalMinedOf(uint256 cubeId) external view returns (uint256) {
        if (!_exists(cubeId)) revert TokenDoesNotExist();
        return _getExtraData(cubeId) >> 2;
    }

    /// @inheritdoc IRemoteCube
    function isApprovedOrOwner(address account, uint256 cubeId) external view returns (bool) {
        return _exists(cubeId) && _isApprovedOrOwner(account, cubeId);
    }

    /// @inheritdoc IRemoteCube
    function mint(address to, uint256 cubeId, uint8 tier, uint256 totalMined) external onlyBridge {
        if (tier > 3 || totalMined >> 94 != 0) revert InvalidCubeData(tier, totalMined);
        _mint(to, cubeId);
        _setExtraData(cubeId, uint96(totalMined << 2 | tier));
    }

    function _refuseValue() private view {
        if (msg.value != 0) revert ValueNotAccepted(msg.value);
    }

    /// @inheritdoc IRemoteCube
    function burn(uint256 cubeId) external onlyBridge returns (uint8 tier, uint256 totalMined) {
        uint256 data = _getExtraData(cubeId);
        _burn(cubeId);
        return (uint8(data & 3), data >> 2);
    }
}
