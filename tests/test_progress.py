"""Progress bars: optional tqdm, and no widget warning in a notebook without ipywidgets."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
import typing
import warnings

import pytest

from pandas_hubtickets import _progress
from pandas_hubtickets._progress import progress_bar


@pytest.fixture
def notebook_without_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Jupyter kernel (as tqdm and we detect it) where ipywidgets cannot be imported."""
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", types.ModuleType("ipykernel.zmqshell"))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    for name in ("tqdm.notebook", "tqdm.autonotebook", "tqdm.auto"):  # imported afresh
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_disabled_bar_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(5, desc="demo", unit="row", enabled=False) as bar:
        bar.update(5)
    assert not bar.shown
    assert capsys.readouterr().err == ""


def test_enabled_bar_draws_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(3, desc="demo", unit="row", enabled=True) as bar:
        bar.update(2)
        bar.update(1)
    assert bar.shown
    err = capsys.readouterr().err
    assert "demo" in err and "3/3" in err


def test_default_is_off_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert not sys.stderr.isatty()  # pytest captures it
    assert not progress_bar(3, desc="demo", unit="row").shown


def test_default_is_on_in_a_notebook(
    notebook_without_widgets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with progress_bar(3, desc="demo", unit="row") as bar:
        bar.update(3)
    assert bar.shown


def test_without_tqdm_there_is_no_bar_and_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("tqdm", "tqdm.std", "tqdm.notebook"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import` raise ImportError
    with progress_bar(3, desc="demo", unit="row", enabled=True) as bar:
        bar.update(3)
    assert not bar.shown


def test_package_imports_and_updates_without_tqdm() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["tqdm"] = None  # as if tqdm were not installed
        import pandas as pd
        import pandas_hubtickets as ht
        from pandas_hubtickets.testing import FakeHubSpot

        with FakeHubSpot() as hub:
            ids = hub.seed_tickets(2)
            client = ht.TicketsClient(hub.token, base_url=hub.base_url)
            edits = pd.DataFrame({"objectId": ids, "subject": ["a", "b"]})
            result = edits.hubtickets.update(client, progress=True)
        print(result.report["status"].tolist())
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['updated', 'updated']"
    assert "tqdm" not in run.stderr


def test_notebook_without_ipywidgets_gets_a_text_bar_and_no_warning(
    notebook_without_widgets: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from tqdm.std import tqdm as text_bar

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "IProgress not found" would fail the test
        with progress_bar(4, desc="demo", unit="row", enabled=True) as bar:
            for _ in range(4):
                bar.update(1)
    assert type(bar._bar) is text_bar
    assert "4/4" in capsys.readouterr().err


def test_tqdm_auto_would_warn_in_that_notebook(
    notebook_without_widgets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setting above is the one where tqdm.auto prints "IProgress not found"."""

    class ZMQInteractiveShell:  # what get_ipython() is in a Jupyter kernel
        config: typing.ClassVar[dict[str, object]] = {"IPKernelApp": {}}  # tqdm < 4.67 asks this

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    with pytest.warns(Warning, match="IProgress not found"):
        import tqdm.auto  # noqa: F401


def test_notebook_detection_follows_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "ipykernel.zmqshell", raising=False)
    assert not _progress._in_notebook()
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", types.ModuleType("ipykernel.zmqshell"))
    assert _progress._in_notebook()
