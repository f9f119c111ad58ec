"""Stage 1, loading: read the storyboard file as YAML with the line and column of every node
(document), explain YAML's own errors (yaml_errors), and tell what a file is (filekind, sniff)."""
