"""Stage 1, the storyboard file as read: YAML with the line and column of every node
(document), YAML's own errors explained (yaml_errors), and what a file is (filekind, sniff)."""
