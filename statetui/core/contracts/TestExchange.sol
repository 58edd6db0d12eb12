// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./TestERC20.sol";
import "./TestConditionalTokens.sol";

/// A test-only stand-in for Polymarket's CTF Exchange, installed at the exchanges' real
/// addresses. A fill moves collateral between the trader and the exchange and positions
/// between the exchange's inventory and the trader, in one transaction, with the same
/// ERC-20 / ERC-1155 events a matched order produces on Polygon. TokenRegistered is
/// the real exchange's event that ties a position id to its condition.
contract TestExchange {
    event TokenRegistered(uint256 indexed token0, uint256 indexed token1, bytes32 indexed conditionId);

    function registerToken(uint256 token, uint256 complement, bytes32 conditionId) external {
        emit TokenRegistered(token, complement, conditionId);
        emit TokenRegistered(complement, token, conditionId);
    }

    function buy(address ctf, address collateral, address trader, uint256 id, uint256 amount, uint256 cost) external {
        TestERC20(collateral).transferFrom(trader, address(this), cost);
        TestConditionalTokens(ctf).safeTransferFrom(address(this), trader, id, amount, "");
    }

    function sell(address ctf, address collateral, address trader, uint256 id, uint256 amount, uint256 proceeds) external {
        TestConditionalTokens(ctf).safeTransferFrom(trader, address(this), id, amount, "");
        TestERC20(collateral).transfer(trader, proceeds);
    }
}
