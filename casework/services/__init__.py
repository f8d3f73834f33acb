"""Domain services: the one place where each domain operation happens (views, CLI and jobs call these)."""
