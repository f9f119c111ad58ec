"""Stage 2, validating: check the loaded document against the JSON Schema (schema) and beyond
it (checks, glyphs), and build the model when nothing is wrong."""
