"""The tool served over stdio where storyboards are written and films asked for: `lsp` for
editors (a language server), `mcp` for assistants (Model Context Protocol). Optional extras:
`pip install 'storyboard[lsp]'`, `'storyboard[mcp]'`."""
