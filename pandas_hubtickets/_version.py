"""The package's version, read from the installed distribution's metadata."""

from __future__ import annotations

from importlib import metadata

__all__ = ["UNKNOWN_VERSION", "__version__", "installed_version"]

UNKNOWN_VERSION = "0+unknown"
"""The version of a source tree that was never installed (PEP 440: a local version of 0)."""


def installed_version(distribution: str = "pandas-hubtickets") -> str:
    """The installed version of ``distribution``, or :data:`UNKNOWN_VERSION`.

    Examples
    --------
    >>> installed_version("no-such-distribution-for-pandas-hubtickets")
    '0+unknown'
    """
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


__version__ = installed_version()
