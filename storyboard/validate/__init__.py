"""Stage 1, the storyboard file as checked: against the JSON Schema (schema) and beyond it
(checks, glyphs); the model is built when nothing is wrong."""
