// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./TestERC20.sol";

/// A test-only stand-in for Gnosis Conditional Tokens, installed at the real Polymarket
/// address with anvil_setCode. Same events, same view functions and selectors as the
/// real contract; balances laid out like TestERC1155 (slot 0: id => holder => amount),
/// so tests may also set them with anvil_setStorageAt.
///
/// One simplification: the real getCollectionId maps (condition, index set) to a point
/// on alt_bn128; here it is a plain hash. statetui never computes ids itself, it asks
/// the contract, so the reader code is the same on Polygon and here. No approvals.
contract TestConditionalTokens {
    mapping(uint256 => mapping(address => uint256)) private _balances;
    mapping(bytes32 => uint256[]) public payoutNumerators;
    mapping(bytes32 => uint256) public payoutDenominator;

    event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value);
    event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values);
    event ConditionPreparation(bytes32 indexed conditionId, address indexed oracle, bytes32 indexed questionId, uint256 outcomeSlotCount);
    event ConditionResolution(bytes32 indexed conditionId, address indexed oracle, bytes32 indexed questionId, uint256 outcomeSlotCount, uint256[] payoutNumerators);
    event PositionSplit(address indexed stakeholder, address collateralToken, bytes32 indexed parentCollectionId, bytes32 indexed conditionId, uint256[] partition, uint256 amount);
    event PayoutRedemption(address indexed redeemer, address indexed collateralToken, bytes32 indexed parentCollectionId, bytes32 conditionId, uint256[] indexSets, uint256 payout);

    function balanceOf(address account, uint256 id) external view returns (uint256) {
        return _balances[id][account];
    }

    function getConditionId(address oracle, bytes32 questionId, uint256 outcomeSlotCount) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(oracle, questionId, outcomeSlotCount));
    }

    function getCollectionId(bytes32 parentCollectionId, bytes32 conditionId, uint256 indexSet) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(parentCollectionId, conditionId, indexSet));
    }

    function getPositionId(address collateralToken, bytes32 collectionId) public pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(collateralToken, collectionId)));
    }

    function getOutcomeSlotCount(bytes32 conditionId) external view returns (uint256) {
        return payoutNumerators[conditionId].length;
    }

    function prepareCondition(address oracle, bytes32 questionId, uint256 outcomeSlotCount) external {
        bytes32 conditionId = getConditionId(oracle, questionId, outcomeSlotCount);
        require(outcomeSlotCount > 1 && payoutNumerators[conditionId].length == 0, "bad condition");
        payoutNumerators[conditionId] = new uint256[](outcomeSlotCount);
        emit ConditionPreparation(conditionId, oracle, questionId, outcomeSlotCount);
    }

    function reportPayouts(bytes32 questionId, uint256[] calldata payouts) external {
        bytes32 conditionId = getConditionId(msg.sender, questionId, payouts.length);
        require(payoutNumerators[conditionId].length == payouts.length, "condition not prepared");
        require(payoutDenominator[conditionId] == 0, "already resolved");
        uint256 den = 0;
        for (uint256 i = 0; i < payouts.length; i++) {
            den += payouts[i];
            payoutNumerators[conditionId][i] = payouts[i];
        }
        require(den > 0, "payout is all zeroes");
        payoutDenominator[conditionId] = den;
        emit ConditionResolution(conditionId, msg.sender, questionId, payouts.length, payoutNumerators[conditionId]);
    }

    function splitPosition(address collateralToken, bytes32 parentCollectionId, bytes32 conditionId, uint256[] calldata partition, uint256 amount) external {
        require(parentCollectionId == bytes32(0) && payoutNumerators[conditionId].length > 0, "bad split");
        TestERC20(collateralToken).transferFrom(msg.sender, address(this), amount);
        uint256[] memory ids = new uint256[](partition.length);
        uint256[] memory amounts = new uint256[](partition.length);
        for (uint256 i = 0; i < partition.length; i++) {
            ids[i] = getPositionId(collateralToken, getCollectionId(parentCollectionId, conditionId, partition[i]));
            amounts[i] = amount;
            _balances[ids[i]][msg.sender] += amount;
        }
        emit PositionSplit(msg.sender, collateralToken, parentCollectionId, conditionId, partition, amount);
        emit TransferBatch(msg.sender, address(0), msg.sender, ids, amounts);
    }

    function redeemPositions(address collateralToken, bytes32 parentCollectionId, bytes32 conditionId, uint256[] calldata indexSets) external {
        uint256 den = payoutDenominator[conditionId];
        require(den > 0, "result for condition not received yet");
        uint256[] storage numerators = payoutNumerators[conditionId];
        uint256 total = 0;
        for (uint256 i = 0; i < indexSets.length; i++) {
            uint256 id = getPositionId(collateralToken, getCollectionId(parentCollectionId, conditionId, indexSets[i]));
            uint256 held = _balances[id][msg.sender];
            uint256 numerator = 0;
            for (uint256 j = 0; j < numerators.length; j++) {
                if (indexSets[i] & (1 << j) != 0) numerator += numerators[j];
            }
            total += held * numerator / den;
            if (held > 0) {
                _balances[id][msg.sender] = 0;
                emit TransferSingle(msg.sender, msg.sender, address(0), id, held);
            }
        }
        if (total > 0) TestERC20(collateralToken).transfer(msg.sender, total);
        emit PayoutRedemption(msg.sender, collateralToken, parentCollectionId, conditionId, indexSets, total);
    }

    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata) external {
        _move(from, to, id, value);
        emit TransferSingle(msg.sender, from, to, id, value);
    }

    function safeBatchTransferFrom(address from, address to, uint256[] calldata ids, uint256[] calldata values, bytes calldata) external {
        require(ids.length == values.length, "length mismatch");
        for (uint256 i = 0; i < ids.length; i++) _move(from, to, ids[i], values[i]);
        emit TransferBatch(msg.sender, from, to, ids, values);
    }

    function _move(address from, address to, uint256 id, uint256 value) private {
        require(_balances[id][from] >= value, "position balance too low");
        _balances[id][from] -= value;
        _balances[id][to] += value;
    }
}
