"""The providers: the contract (base), the shared mechanics (hosted, http, replies,
capabilities, options), one module per service, and the registry that finds them all.

Every provider, built-in or plugin, is registered as an entry point in the
`storyboard.providers` group and found by `registry` (see the README on writing a plugin):

    [project.entry-points."storyboard.providers"]
    myname = "mypkg.module:MyProvider"
"""

from __future__ import annotations

from storyboard.providers.registry import classes, example_hosted, get, name_problem, names

__all__ = ["classes", "example_hosted", "get", "name_problem", "names"]
