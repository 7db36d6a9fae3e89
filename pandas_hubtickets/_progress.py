"""Progress bars that never get in the way: optional tqdm, no widget warnings.

tqdm is imported only when a bar is shown, and a missing tqdm means no bar
(the package imports and runs without it). In Jupyter the widget bar is used
when ipywidgets is there, otherwise tqdm's text bar: ``tqdm.auto`` would
print "IProgress not found" instead.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm.std import tqdm

__all__ = ["Progress", "progress_bar"]


class Progress:
    """A progress bar, or nothing (when disabled or tqdm is missing).

    Attributes
    ----------
    shown : bool
        True when a bar is drawn.
    """

    def __init__(self, bar: tqdm[Any] | None) -> None:
        self._bar = bar

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` units."""
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Finish the bar (safe to call twice)."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _in_notebook() -> bool:
    """True in a Jupyter kernel (where stderr is not a terminal but a bar still shows)."""
    return "ipykernel.zmqshell" in sys.modules


def progress_bar(
    total: int | None, *, desc: str, unit: str, enabled: bool | None = None
) -> Progress:
    """A progress bar of ``total`` units (``None``: unknown), or a silent stand-in.

    Parameters
    ----------
    total : int or None
        Units to expect, or ``None`` when not known in advance.
    desc : str
        The label in front of the bar (never put a secret in it).
    unit : str
        What is counted (``"row"``, ``"ticket"``).
    enabled : bool, optional
        ``None`` (default) shows a bar only on a terminal or in Jupyter.
        Without tqdm installed there is never a bar, and no error.

    Returns
    -------
    Progress
        With ``update(n)``, ``close()``; also a context manager.

    Examples
    --------
    >>> with progress_bar(3, desc="demo", unit="row", enabled=False) as bar:
    ...     bar.update(3)
    >>> bar.shown
    False
    """
    notebook = _in_notebook()
    if enabled is None:
        enabled = notebook or sys.stderr.isatty()
    if not enabled:
        return Progress(None)
    try:
        from tqdm.std import tqdm as text_bar
    except ImportError:  # tqdm is optional at run time: no bar then
        return Progress(None)
    if notebook:
        import tqdm.notebook as widgets

        if getattr(widgets, "IProgress", None) is not None:  # ipywidgets is there
            return Progress(widgets.tqdm(total=total, desc=desc, unit=unit))
    return Progress(text_bar(total=total, desc=desc, unit=unit))
