"""The local development chain: anvil, the demo token and the staged thefts."""
