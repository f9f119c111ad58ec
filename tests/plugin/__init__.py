"""The test plugin, registered for the test session only: never installed where the user's
`storyboard` would list it.

A distribution registers providers through the `entry_points.txt` of its `*.dist-info`
folder on sys.path; `pip install` writes one into site-packages, and so `storyboard --help`
would name loopvid to the user ever after. Here the folder is written from the plugin's own
pyproject.toml into a temporary directory, which, with the plugin's source, goes on sys.path
(this process) and on PYTHONPATH (the `storyboard` processes the tests start, and the xdist
workers, which reuse it). storyboard finds it by the ordinary entry-point discovery, as it
would find the installed package; no production code knows about tests.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli to Pythons before 3.11
    import tomli as tomllib

PLUGIN = Path(__file__).resolve().parent  # the plugin's source: `import loopvid` finds it here
_SITE = "STORYBOARD_TEST_PLUGIN_SITE"  # the folder already made, for the processes started


def _write(site: Path) -> None:
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text("utf-8"))["project"]
    name, version = project["name"], project["version"]
    dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    groups = project.get("entry-points", {})
    text = "".join(
        f"[{group}]\n" + "".join(f"{key} = {target}\n" for key, target in entries.items()) + "\n"
        for group, entries in groups.items()
    )
    (dist / "entry_points.txt").write_text(text, encoding="utf-8")


def register() -> Path:
    """Make the plugin an installed distribution for this process and its children; returns
    the folder that holds its dist-info (made once per session, removed at its end)."""
    site = os.environ.get(_SITE, "")
    if not site or not Path(site).is_dir():
        site = tempfile.mkdtemp(prefix="storyboard-test-plugin-")
        _write(Path(site))
        atexit.register(shutil.rmtree, site, ignore_errors=True)
        os.environ[_SITE] = site
    paths = [str(PLUGIN), site]
    for path in paths:
        if path not in sys.path:
            sys.path.append(path)  # after site-packages: it shadows nothing
    old = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p not in paths]
    os.environ["PYTHONPATH"] = os.pathsep.join([*old, *paths])
    return Path(site)
