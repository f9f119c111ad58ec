"""Prompt templates: sandboxed Jinja (sandbox, filters) bounded in memory and time (bounds),
rendered per shot (templating); validate checks them, plan renders them."""
