"""The install route of docs/python.md: `cmake --install BUILD --prefix ~/.local` puts the package
into the user site of Debian's Python, where `import amari` finds it without PYTHONPATH."""
import os
import subprocess
import sys

import pytest


def test_cmake_install_into_the_user_site(tmp):
    build = os.environ.get("AMARI_BUILD_DIR")
    if not build:
        pytest.fail("AMARI_BUILD_DIR is not set (run through CTest)")
    userbase = tmp / "home" / ".local"
    subprocess.run(["cmake", "--install", build, "--prefix", str(userbase), "--component", "python"],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONUSERBASE"] = str(userbase)
    code = ("import amari; print(amari.__file__); "
            "print(amari.maps(sigma_w=2.5, sigma_b=0.3)['phase'])")
    p = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(tmp), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    where, phase = p.stdout.split()
    assert where.startswith(str(userbase)), where
    assert phase == "chaotic"


def test_tools_python_runs_debian_python_with_the_module(tmp):
    build = os.environ["AMARI_BUILD_DIR"]
    source = os.environ.get("AMARI_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    # Another python3 first on PATH (as pyenv puts one): tools/python still runs /usr/bin/python3.
    fake = tmp / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\necho wrong python >&2\nexit 3\n")
    (fake / "python3").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = str(fake) + os.pathsep + env["PATH"]
    env["AMARI_BUILD_DIR"] = build
    p = subprocess.run([os.path.join(source, "tools", "python"), "-c",
                        "import sys, amari; print(sys.executable, amari.maps(sigma_w=2.5, sigma_b=0.3)['phase'])"],
                       env=env, capture_output=True, text=True, cwd=str(tmp))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/usr/bin/python3", "chaotic"]
