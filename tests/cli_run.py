"""Run the real CLI in a child process against a loopback service, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FAST = {"STORYBOARD_POLL_INTERVAL": "0.05", "STORYBOARD_RETRY_BASE": "0.01"}


def storyboard(
    folder: Path, env_name: str, base_url: str, key: str, *args: str, **more: str
) -> subprocess.CompletedProcess[str]:
    """`storyboard ARGS` in `folder`, with only this provider's key and base URL set (none of
    the caller's `*_API_KEY` / `*_BASE_URL`), and `more` variables (e.g. FAST)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update({f"{env_name}_API_KEY": key, f"{env_name}_BASE_URL": base_url, **more})
    return subprocess.run(
        [sys.executable, "-m", "storyboard", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=120,
    )
