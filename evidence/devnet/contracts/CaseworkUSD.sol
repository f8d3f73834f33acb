// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Casework Demo USD (cUSDT)
/// @notice A devnet-only, 6-decimal ERC-20 shaped like Tether's USDT, so staged thefts produce the
///         same on-chain records (Transfer/Approval logs, issuer blacklist events) as the real token.
/// @dev Not for production: no pausing, no fees, no upgrade path.
contract CaseworkUSD {
    string public constant name = "Casework Demo USD";
    string public constant symbol = "cUSDT";
    uint8 public constant decimals = 6;

    address public owner;
    uint256 public totalSupply;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(address => bool) public isBlackListed;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    // Unindexed, exactly as Tether declares them, so decoders are exercised on the real shape.
    event AddedBlackList(address _user);
    event RemovedBlackList(address _user);
    event DestroyedBlackFunds(address _blackListedUser, uint256 _balance);

    modifier onlyOwner() {
        require(msg.sender == owner, "cUSDT: caller is not the issuer");
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    /// @notice Issue new tokens to an address (the issuer's equivalent of a customer buying USDT).
    function mint(address to, uint256 amount) external onlyOwner {
        require(to != address(0), "cUSDT: mint to the zero address");
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(!isBlackListed[msg.sender], "cUSDT: sender is blacklisted");
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        // Like USDT, the check is on the holder whose funds move, not on the spender.
        require(!isBlackListed[from], "cUSDT: sender is blacklisted");
        uint256 allowed = allowance[from][msg.sender];
        // An unlimited approval stays unlimited, as in USDT and OpenZeppelin: that is what makes
        // the "approve max" phishing request so dangerous.
        if (allowed != type(uint256).max) {
            require(allowed >= value, "cUSDT: insufficient allowance");
            allowance[from][msg.sender] = allowed - value;
        }
        _transfer(from, to, value);
        return true;
    }

    function addBlackList(address user) external onlyOwner {
        isBlackListed[user] = true;
        emit AddedBlackList(user);
    }

    function removeBlackList(address user) external onlyOwner {
        isBlackListed[user] = false;
        emit RemovedBlackList(user);
    }

    /// @notice Burn the whole balance of a blacklisted address (Tether's remedy for frozen funds).
    function destroyBlackFunds(address user) external onlyOwner {
        require(isBlackListed[user], "cUSDT: address is not blacklisted");
        uint256 funds = balanceOf[user];
        balanceOf[user] = 0;
        totalSupply -= funds;
        emit DestroyedBlackFunds(user, funds);
        emit Transfer(user, address(0), funds);
    }

    function _transfer(address from, address to, uint256 value) private {
        require(to != address(0), "cUSDT: transfer to the zero address");
        uint256 held = balanceOf[from];
        require(held >= value, "cUSDT: transfer amount exceeds balance");
        balanceOf[from] = held - value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
