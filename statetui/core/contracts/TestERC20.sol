// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A test-only ERC-20. It is installed with anvil_setCode, which copies runtime code
/// and runs no constructor, so every value lives in storage a test can also set with
/// anvil_setStorageAt:
///   slot 0: balanceOf mapping, entry at keccak256(pad32(holder) ++ pad32(0))
///   slot 1: symbol (a short string: bytes left-aligned, length * 2 in the last byte)
///   slot 2: decimals
/// Transfers emit the standard Transfer event, so a wallet's history can be read back
/// with eth_getLogs exactly as on Polygon. There are no allowances: the callers are
/// impersonated accounts and the test exchange / conditional tokens contracts, which
/// on the real chain act after an approval.
contract TestERC20 {
    mapping(address => uint256) public balanceOf;
    string public symbol;
    uint8 public decimals;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        _move(from, to, value);
        return true;
    }

    function mint(address to, uint256 value) external {
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    /// One transaction that swaps `underlying` for this token 1:1, as a collateral
    /// migration (USDC.e -> pUSD) does: the underlying moves to this contract, the
    /// same amount is minted to the caller.
    function wrap(address underlying, uint256 value) external {
        TestERC20(underlying).transferFrom(msg.sender, address(this), value);
        balanceOf[msg.sender] += value;
        emit Transfer(address(0), msg.sender, value);
    }

    function _move(address from, address to, uint256 value) private {
        require(balanceOf[from] >= value, "balance too low");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
