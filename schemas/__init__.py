"""The storyboard JSON Schema, installed inside the package."""
