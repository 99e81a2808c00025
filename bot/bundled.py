"""What ships with hubs-bot: the seed playbooks and the default configuration.

The repository keeps them at its top level (``seeds/``, ``config/hubs.toml``); the build
backend maps them into the wheel as ``bot/_bundled/…``. An installed package (wheel, pipx,
container) reads them there through ``importlib.resources``; a source checkout or an editable
install, where that folder does not exist, reads them from the checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def bundled_path(relative: str) -> Path:
    """Filesystem path of a bundled file or directory, e.g. ``seeds`` or ``config/hubs.toml``."""
    packaged = files("bot").joinpath("_bundled", *relative.split("/"))
    if isinstance(packaged, Path) and packaged.exists():
        return packaged
    return _SOURCE_ROOT / relative


BUNDLED_CORPUS = bundled_path("seeds")
DEFAULT_CONFIG = bundled_path("config/hubs.toml")
