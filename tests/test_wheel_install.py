"""The wheel works outside the repository: built, installed into a fresh virtual environment, and used
from an empty folder as a department would (issue: installable and operable anywhere).

The wheel is built from a copy of ``pyproject.toml``, ``README.md``, ``LICENSE`` and ``src/`` only, and
installed with ``--no-deps`` into a new virtual environment outside the repository. Its dependencies
come from the environment running the tests (a ``.pth`` line adds that environment's site-packages; the
``.pth`` files there, such as the editable riskplan's, are not processed, so the only riskplan importable
is the installed wheel: checked). A ``sitecustomize`` in the new environment installs an audit hook that
records every file opened or listed under the repository (outside its ``.venv``), ``../shared`` or the
source tree the tests import: any such access fails the test, so no step can quietly need the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import riskplan
from conftest import REPO_ROOT, shared_file

# Slow (a wheel build, a new environment, ten commands), and run by `make test` and CI like every test.
pytestmark = pytest.mark.slow

SOURCE_TREE = Path(riskplan.__file__).resolve().parents[1]  # the src/ the tests import riskplan from

# Installed into the new environment: every open/listdir under a forbidden root is appended to a log.
SITECUSTOMIZE = """
import os, sys

_forbidden = [p for p in os.environ.get("WHEEL_TEST_FORBIDDEN", "").split(os.pathsep) if p]
_allowed = [p for p in os.environ.get("WHEEL_TEST_ALLOWED", "").split(os.pathsep) if p]
_log = os.environ.get("WHEEL_TEST_LOG")
_busy = []


def _hook(event, args):
    if _busy or event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    path = args[0]
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return
    _busy.append(1)
    try:
        full = os.path.realpath(path)
        if any(full == f or full.startswith(f + os.sep) for f in _forbidden) and not any(
            full == a or full.startswith(a + os.sep) for a in _allowed
        ):
            with open(_log, "a", encoding="utf-8") as fh:
                fh.write(f"{event} {full}\\n")
    finally:
        _busy.pop()


if _log:
    sys.addaudithook(_hook)
"""


@dataclass(frozen=True)
class Installed:
    python: Path
    riskplan: Path
    wheel: Path
    env: dict[str, str]
    log: Path
    seconds_build: float
    seconds_install: float


def _can_build_without_isolation() -> bool:
    """Whether this environment has the build backend pyproject.toml names (setuptools>=68, wheel)."""
    try:
        import setuptools
        import wheel  # noqa: F401
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 68


def _build_wheel(out: Path, scratch: Path) -> Path:
    copy = scratch / "riskplan-src"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, copy / name)
    shutil.copytree(REPO_ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(copy)]
    if _can_build_without_isolation():
        argv.insert(5, "--no-build-isolation")  # the locked build tools (requirements-dev.lock)
    subprocess.run(argv, check=True, capture_output=True, text=True)
    (found,) = out.glob("riskplan-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("wheel")
    assert REPO_ROOT not in root.parents, "the test environment must be outside the repository"
    start = time.perf_counter()
    wheel = _build_wheel(root / "dist", root)
    built = time.perf_counter()
    target = root / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    python = target / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--ignore-installed",
            "--quiet",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    done = time.perf_counter()
    # after the install (pip would otherwise see the dev environment's riskplan as already installed)
    dev_site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "_riskplan_test_deps.pth").write_text("\n".join(dev_site) + "\n")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    shared = (REPO_ROOT.parent / "shared").resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKPLAN_", "PYTHON", "VIRTUAL_ENV"))}
    work = root / "work"
    work.mkdir()
    env.update(
        PYTHONNOUSERSITE="1",
        HOME=str(root / "home"),
        XDG_DATA_HOME=str(root / "home" / "data"),
        RISKPLAN_DATABASE_URL=f"sqlite:///{work / 'var' / 'riskplan.db'}",
        RISKPLAN_USER="pv.officer",
        WHEEL_TEST_FORBIDDEN=os.pathsep.join(str(p) for p in (REPO_ROOT.resolve(), shared, SOURCE_TREE)),
        WHEEL_TEST_ALLOWED=os.pathsep.join(str(Path(p).resolve()) for p in dev_site),
        WHEEL_TEST_LOG=str(root / "forbidden.log"),
        COLUMNS="160",
    )
    yield Installed(
        python, target / "bin" / "riskplan", wheel, env, root / "forbidden.log", built - start, done - built
    )


def _riskplan(installed: Installed, cwd: Path, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(installed.riskplan), *args],
        cwd=cwd,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"riskplan {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


# Runs the commands one after the other in one Python process of the new environment, each through the
# `riskplan` script's entry point (riskplan.cli:main, with its arguments in sys.argv and its output captured
# by Click's test runner): one start-up of Python and of riskplan's imports for them all, not one each.
COMMANDS_SCRIPT = """
import json, sys, time
from click.testing import CliRunner
from riskplan.cli import main

steps = json.loads(sys.argv[1])
done = {}
for name, args in steps.items():
    start = time.perf_counter()
    with CliRunner().isolation() as (_, _, output):
        sys.argv = ["riskplan", *args]
        try:
            main()
            code = 0
        except SystemExit as exit:
            code = 0 if exit.code is None else exit.code if isinstance(exit.code, int) else 1
    done[name] = {"exit": code, "output": output.getvalue().decode(), "seconds": time.perf_counter() - start}
    if code != 0:
        break
print(json.dumps(done))
"""


def _riskplan_commands(
    installed: Installed, cwd: Path, steps: dict[str, list[str]], timings: dict[str, float]
) -> dict[str, str]:
    """The output of each of ``steps`` (name: arguments of `riskplan`); each must exit 0."""
    script = installed.python.parents[2] / "run_commands.py"
    script.write_text(COMMANDS_SCRIPT)
    done = subprocess.run(
        [str(installed.python), str(script), json.dumps(steps)],
        cwd=cwd,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    results = json.loads(done.stdout.splitlines()[-1])
    for name, result in results.items():
        timings[name] = result["seconds"]
        assert result["exit"] == 0, f"riskplan {' '.join(steps[name])} exited {result['exit']}:\n{result['output']}"
    assert list(results) == list(steps)
    return {name: result["output"] for name, result in results.items()}


def _no_source_tree_access(installed: Installed) -> None:
    used = installed.log.read_text().splitlines() if installed.log.exists() else []
    assert not used, "the installed riskplan read the repository or ../shared:\n" + "\n".join(used[:20])


def test_the_installed_wheel_imports_from_the_new_environment(installed: Installed) -> None:
    where = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import riskplan, riskplan.standards as s; print(riskplan.__file__);"
            " print(s.E2B_R3_ICSR_SCHEMA.is_file(), s.E2B_R3_NOTICE.is_file())",
        ],
        env=installed.env,
        cwd=installed.python.parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert Path(where[0]).resolve().is_relative_to(installed.python.parents[1].resolve()), where
    assert where[1] == "True True"  # the ICH schema set and its NOTICE are in the package
    print(
        f"\nwheel {installed.wheel.name}: {installed.wheel.stat().st_size:,} bytes; built in "
        f"{installed.seconds_build:.1f} s, installed (--no-deps) in {installed.seconds_install:.1f} s"
    )


def test_a_new_user_runs_riskplan_from_an_empty_folder(installed: Installed, tmp_path: Path) -> None:
    work = Path(installed.env["RISKPLAN_DATABASE_URL"].removeprefix("sqlite:///")).parents[1]
    assert not any(work.iterdir())
    # the user's own inputs, copied in: an FDA E2B(R3) example, a small long table, a small OMOP CDM
    example = work / "fda_FAERS2022Scenario1.xml"
    shutil.copy2(shared_file("standards", "e2b_r3", "examples", example.name), example)
    shutil.copytree(REPO_ROOT / "tests" / "data" / "cdm_small", work / "cdm")
    rows = ["report_id,product,event"]
    for i in range(60):
        rows.append(f"R{i},{'DRUGA' if i % 3 else 'DRUGB'},{'Headache' if i % 4 else 'Liver injury'}")
    (work / "reports.csv").write_text("\n".join(rows) + "\n")
    timings: dict[str, float] = {}
    assert _riskplan(installed, work, "--version").strip() == f"riskplan {riskplan.__version__}"  # the script
    steps = {
        "demo": ["demo", "--steps", "plan"],
        "case import": ["case", "import", str(example)],
        "case export": ["case", "export", "--id", "RP0000001", "--e2b", str(work / "e2b-out")],
        "signal detect": ["signal", "detect", "--reports", str(work / "reports.csv"), "--out", str(work / "s.csv")],
        "study incidence": [
            *("study", "incidence", "--cdm", str(work / "cdm"), "--target", "1001", "--outcome", "5001"),
            *("--format", "json"),
        ],
        "report psur": [
            *("report", "psur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", str(work / "psur")),
            "--no-pdf",
        ],
        "db status": ["db", "status"],
    }
    out = _riskplan_commands(installed, work, steps, timings)
    assert "riskplan demo: outputs" in out["demo"]
    assert "1 case(s) imported" in out["case import"]
    (batch,) = (work / "e2b-out").glob("*.xml")
    assert b"MCCI_IN200100UV01" in batch.read_bytes()[:2000]
    assert "DRUGA" in (work / "s.csv").read_text()
    incidence = out["study incidence"]
    assert json.loads(incidence[incidence.index("{") :])["rates"]["rows"]
    assert any((work / "psur").rglob("*.html"))
    assert "up to date" in out["db status"] and "audit trail:" in out["db status"]
    timings["serve"] = _serve_health(installed, work)
    _no_source_tree_access(installed)
    print("\n" + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def _serve_health(installed: Installed, work: Path) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    server = subprocess.Popen(
        [str(installed.riskplan), "serve", "--port", str(port)],
        cwd=work,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (
                f"riskplan serve exited {server.returncode}: {server.stdout.read() if server.stdout else ''}"
            )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as answer:
                    assert answer.status == 200
                    assert json.loads(answer.read())
                    return time.perf_counter() - start
            except OSError:
                assert time.monotonic() < deadline, "riskplan serve did not answer /api/health within 120 s"
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
