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
