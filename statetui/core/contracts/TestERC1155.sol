// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A test-only ERC-1155 that only reads, laid out like OpenZeppelin's: balances in a
/// nested mapping id => holder => amount at storage slot 0, so the entry for
/// (id, holder) is at keccak256(pad32(holder) ++ keccak256(pad32(id) ++ pad32(0))).
/// Installed with anvil_setCode (no constructor runs); balances set with anvil_setStorageAt.
contract TestERC1155 {
    mapping(uint256 => mapping(address => uint256)) private _balances;

    function balanceOf(address account, uint256 id) external view returns (uint256) {
        return _balances[id][account];
    }
}
