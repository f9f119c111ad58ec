"""Stage 1, the storyboard file: load it with line marks (document), check it against the
JSON Schema (schema) and beyond (checks), render its templates (templating), and build the
frozen model every later stage reads (model)."""
