// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A test-only ERC-20 that only reads. It is installed with anvil_setCode, which
/// copies runtime code and runs no constructor, so every value lives in storage a
/// test sets with anvil_setStorageAt:
///   slot 0: balanceOf mapping, entry at keccak256(pad32(holder) ++ pad32(0))
///   slot 1: symbol (a short string: bytes left-aligned, length * 2 in the last byte)
///   slot 2: decimals
contract TestERC20 {
    mapping(address => uint256) public balanceOf;
    string public symbol;
    uint8 public decimals;
}
