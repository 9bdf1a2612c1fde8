#!/usr/bin/env python3
"""Installs a build of amari into a fresh temporary prefix and builds tests/consumer/ against it, as a
project that uses amari would (the CTest test install_consumer, tests/CMakeLists.txt):

  check_install.py --build-dir BUILD --version X.Y.Z [--cmake CMAKE] [--generator G]
                   [--cxx-compiler CXX] [--build-type T] [--launcher CCACHE]

1. `cmake --install BUILD --prefix TMP/prefix`; the headers, the library, the CLI and
   amariConfig.cmake, amariConfigVersion.cmake, amariTargets.cmake must be there (and no private
   header of src/), and the installed `amari --version` must name X.Y.Z;
2. configures tests/consumer/ (find_package(amari REQUIRED), amari::amari) with
   CMAKE_PREFIX_PATH=TMP/prefix, and checks that it found amari there;
3. builds it, runs it, and compares its output with what it must print.
Prints each step; on failure, what went wrong and the directory kept for a look. Exit 0 or 1.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    pass


def run(cmd, what, **kw):
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise Failure(f"{what} failed (exit {r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


def check_installed(prefix, version):
    missing = []
    for pattern in ("include/amari/core/version.hpp", "include/amari/io/store.hpp", "include/amari/theory/maps.hpp",
                    "include/amari/sim/simulate.hpp", "lib*/**/libamari.a", "bin/amari",
                    "lib*/**/cmake/amari/amariConfig.cmake", "lib*/**/cmake/amari/amariConfigVersion.cmake",
                    "lib*/**/cmake/amari/amariTargets.cmake"):
        if not glob.glob(os.path.join(prefix, pattern), recursive=True):
            missing.append(pattern)
    if missing:
        raise Failure(f"not installed under {prefix}: {', '.join(missing)}")
    private = glob.glob(os.path.join(prefix, "include", "**", "internal.hpp"), recursive=True) + \
        glob.glob(os.path.join(prefix, "include", "**", "superblock.hpp"), recursive=True)
    if private:
        raise Failure(f"private headers of src/ were installed: {private}")
    out = run([os.path.join(prefix, "bin", "amari"), "--version"], "the installed amari --version").stdout
    if not out.startswith(f"amari {version}"):
        raise Failure(f"the installed amari --version printed {out!r}, expected 'amari {version} ...'")
    print(f"installed: headers, library, CLI ({out.strip()}), CMake package", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--generator")
    ap.add_argument("--cxx-compiler")
    ap.add_argument("--build-type", default="Release")
    ap.add_argument("--launcher")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="amari-consumer-")
    prefix, build, work = (os.path.join(tmp, d) for d in ("prefix", "build", "work"))
    os.mkdir(work)
    try:
        run([args.cmake, "--install", args.build_dir, "--prefix", prefix], "cmake --install")
        check_installed(prefix, args.version)

        configure = [args.cmake, "-S", HERE, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
                     f"-DCMAKE_BUILD_TYPE={args.build_type}", "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON"]
        if args.generator:
            configure += ["-G", args.generator]
        if args.cxx_compiler:
            configure.append(f"-DCMAKE_CXX_COMPILER={args.cxx_compiler}")
        if args.launcher:
            configure.append(f"-DCMAKE_CXX_COMPILER_LAUNCHER={args.launcher}")
        run(configure, "configuring tests/consumer against the installed tree")
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            found = [line.split("=", 1)[1].strip() for line in f if line.startswith("amari_DIR:")]
        if not found or not os.path.realpath(found[0]).startswith(os.path.realpath(prefix) + os.sep):
            raise Failure(f"find_package(amari) found {found or 'nothing'}, not the tree installed in {prefix}")
        print(f"find_package(amari) found {found[0]}", flush=True)

        run([args.cmake, "--build", build], "building tests/consumer")
        exe = os.path.join(build, "consumer")
        out = run([exe, work], "running the consumer").stdout
        expected = (f"amari {args.version}\n"
                    "edge of chaos (relu, sigma_b = 0): sigma_w = 1.4142135623730951\n"
                    "store round trip: status complete, x = 1.5 2.5 3.5\n")
        print(out, end="", flush=True)
        if out != expected:
            raise Failure(f"the consumer printed\n{out}\ninstead of\n{expected}")
    except Failure as e:
        print(f"FAILED: {e}\n(kept for a look: {tmp})", flush=True)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASSED: a project builds and runs against the installed amari with find_package(amari)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
