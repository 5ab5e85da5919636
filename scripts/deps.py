"""The dependency lock (constraints.txt) and the two checks that keep pyproject's ranges honest.

    python scripts/deps.py lock      # move the lock forward: the newest versions the ranges allow
    python scripts/deps.py latest    # test the newest resolvable versions, without the lock
    python scripts/deps.py lowest    # test the lowest versions the ranges allow (direct deps)

`lock` rewrites constraints.txt, which every install uses (`pip install -e '.[test]' -c
constraints.txt`, the README and .ci/run). `latest` and `lowest` install into a fresh virtual
environment under test-output/deps/, run the test suite there and report what differs from the
lock and what broke; they change nothing in the checkout and exit 0 whatever the tests say
(`--strict` makes a failing test suite exit 1). uv does the resolving (installed with pip when
missing): its universal resolution writes one lock for every platform and Python >= 3.11.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "constraints.txt"
OUTPUT = REPO / "test-output" / "deps"
PYTHON = "3.11"  # the lowest Python the project supports: the lock must resolve for it
EXTRAS = "test,scale"  # what `latest` and `lowest` install and test
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)\s*(;.*)?$")


def uv() -> list[str]:
    """The uv command, installed into this Python when it is missing."""
    if shutil.which("uv") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "uv"], check=True)
        return [sys.executable, "-m", "uv"]
    return ["uv"]


def compile_lock(output: Path, resolution: str = "highest") -> None:
    """Resolve pyproject.toml with every extra, for every platform, into `output`."""
    subprocess.run(
        [
            *uv(),
            "pip",
            "compile",
            "pyproject.toml",
            "--all-extras",
            "--universal",
            "--python-version",
            PYTHON,
            "--resolution",
            resolution,
            "--upgrade",
            "--quiet",
            "--custom-compile-command",
            "python scripts/deps.py lock",
            "--output-file",
            str(output),
        ],
        cwd=REPO,
        check=True,
    )


def pins(path: Path) -> dict[str, str]:
    """name -> version of a compiled requirements file (markers kept next to the version)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line.strip()):
            name, version, marker = match.groups()
            key = re.sub(r"[-_.]+", "-", name).lower()
            shown = f"{version} {marker.strip()}" if marker else version
            found[key] = f"{found[key]} | {shown}" if key in found else shown
    return found


def lock() -> int:
    before = pins(LOCK) if LOCK.exists() else {}
    compile_lock(LOCK)
    after = pins(LOCK)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    for name in sorted(changed):
        print(f"{name}: {before.get(name, '-')} -> {after.get(name, '-')}")
    print(f"{LOCK.name}: {len(after)} packages, {len(changed)} changed")
    return 0


def installed(python: Path) -> dict[str, str]:
    listing = subprocess.run(
        [*uv(), "pip", "freeze", "--python", str(python)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in listing.splitlines():
        if match := PIN.match(line.strip()):
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def check(name: str, strict: bool, timeout: float, pytest_args: list[str]) -> int:
    """Install the project (`latest` or `lowest` versions) into a fresh venv, run the tests,
    report."""
    folder = OUTPUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    venv = folder / "venv"
    # This interpreter, not one uv would look for (or download) itself.
    subprocess.run([*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [*uv(), "pip", "install", "--quiet", "--python", str(python)]
    install += ["--resolution", "lowest-direct" if name == "lowest" else "highest"]
    subprocess.run([*install, "-e", f".[{EXTRAS}]"], cwd=REPO, check=True)

    versions = installed(python)
    locked = pins(LOCK)
    print(f"{name}: versions that differ from {LOCK.name}")
    for package in sorted(versions):
        lock_version = locked.get(package, "-")
        if package != "commons" and versions[package] not in lock_version.split(" "):
            print(f"  {package}: {versions[package]} (lock: {lock_version})")

    log = folder / "pytest.log"
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    pytest = [str(python), "-m", "pytest", "commons_tests", "-q", "-p", "no:cacheprovider"]
    with log.open("w") as out:
        # A session of its own, so that a time-out ends pytest and the servers it started.
        process = subprocess.Popen(
            [*pytest, *pytest_args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
            print(f"{name}: the tests did not finish within {timeout} s")
    lines = log.read_text().splitlines()
    failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    # The summary is reworded so that it never reads as this run's own closing pytest line.
    summary = lines[-1].strip("= ") if lines else "no output"
    print(f"{name}: pytest exit {code} after {time.monotonic() - started:.0f} s ({summary})")
    for line in failures:
        print(f"  {line}")
    print(f"  full log: {log.relative_to(REPO)}")
    return 1 if strict and code != 0 else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["lock", "latest", "lowest"])
    parser.add_argument("--strict", action="store_true", help="exit 1 when the tests fail")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds for the tests")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    # argparse takes the positional list before the options, so `--` is split off by hand.
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.command == "lock":
        return lock()
    return check(args.command, args.strict, args.timeout, [*args.pytest_args, *extra])


if __name__ == "__main__":
    sys.exit(main())
