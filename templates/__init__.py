"""Prompt templates, installed inside the package."""
