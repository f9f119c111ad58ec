"""The domain model: the frozen storyboard every stage reads (model), and the one edit that
writes it back to its file (edit)."""
