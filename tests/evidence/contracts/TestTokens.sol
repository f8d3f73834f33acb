// SPDX-License-Identifier: UNLICENSED
// Test-only tokens for the evidence decoder: each one reproduces a shape real chains have.
pragma solidity ^0.8.20;

/// Balances and allowances shared by the test tokens; each token declares its own events.
abstract contract Ledger {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;

    function _logTransfer(address from, address to, uint256 value) internal virtual;
    function _logApproval(address owner, address spender, uint256 value) internal virtual;

    function mint(address to, uint256 value) external {
        totalSupply += value;
        balanceOf[to] += value;
        _logTransfer(address(0), to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= value, "allowance");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    function increaseAllowance(address spender, uint256 added) external returns (bool) {
        _approve(msg.sender, spender, allowance[msg.sender][spender] + added);
        return true;
    }

    function _approve(address owner, address spender, uint256 value) internal {
        allowance[owner][spender] = value;
        _logApproval(owner, spender, value);
    }

    function _move(address from, address to, uint256 value) internal {
        require(balanceOf[from] >= value, "balance");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        _logTransfer(from, to, value);
    }
}

/// The standard shape: indexed Transfer/Approval, string symbol, 6 decimals, EIP-2612 permit.
contract SixDecimalToken is Ledger {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    string public name;
    string public symbol;
    uint8 public constant decimals = 6;
    mapping(address => uint256) public nonces;
    bytes32 public immutable DOMAIN_SEPARATOR;
    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name_)),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        require(block.timestamp <= deadline, "expired");
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                DOMAIN_SEPARATOR,
                keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonces[owner]++, deadline))
            )
        );
        require(ecrecover(digest, v, r, s) == owner, "signature");
        _approve(owner, spender, value);
    }

    function _logTransfer(address from, address to, uint256 value) internal override {
        emit Transfer(from, to, value);
    }

    function _logApproval(address owner, address spender, uint256 value) internal override {
        emit Approval(owner, spender, value);
    }
}

/// symbol() exists but reverts, as some proxies and broken tokens do.
contract RevertingSymbolToken is Ledger {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    uint8 public constant decimals = 18;

    function symbol() external pure returns (string memory) {
        revert("no symbol");
    }

    function _logTransfer(address from, address to, uint256 value) internal override {
        emit Transfer(from, to, value);
    }

    function _logApproval(address owner, address spender, uint256 value) internal override {
        emit Approval(owner, spender, value);
    }
}

/// symbol() and name() return bytes32, as MKR and other early tokens do.
contract Bytes32SymbolToken is Ledger {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    bytes32 public constant symbol = "B32";
    bytes32 public constant name = "Bytes Thirty-Two";
    uint8 public constant decimals = 18;

    function _logTransfer(address from, address to, uint256 value) internal override {
        emit Transfer(from, to, value);
    }

    function _logApproval(address owner, address spender, uint256 value) internal override {
        emit Approval(owner, spender, value);
    }
}

/// No name(), symbol() or decimals() at all (they are optional in ERC-20), and no fallback.
contract NoMetadataToken is Ledger {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function _logTransfer(address from, address to, uint256 value) internal override {
        emit Transfer(from, to, value);
    }

    function _logApproval(address owner, address spender, uint256 value) internal override {
        emit Approval(owner, spender, value);
    }
}

/// Early-token shape: Transfer and Approval with no indexed fields (everything in data).
contract UnindexedTransferToken is Ledger {
    event Transfer(address from, address to, uint256 value);
    event Approval(address owner, address spender, uint256 value);

    string public constant symbol = "UNX";
    uint8 public constant decimals = 8;

    function _logTransfer(address from, address to, uint256 value) internal override {
        emit Transfer(from, to, value);
    }

    function _logApproval(address owner, address spender, uint256 value) internal override {
        emit Approval(owner, spender, value);
    }
}
