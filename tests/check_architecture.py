#!/usr/bin/env python3
"""Checks the architecture of amari's sources (the CTest tests architecture_public_headers and
architecture_layers):

  check_architecture.py headers SOURCE_DIR
      No public header (include/amari/**) includes HDF5, fmt, toml++, nlohmann/json or CLI11 (nor
      Boost, which the library links privately): users of the library need none of them to compile
      against it. (A public header that includes another
      public header is checked itself, so this covers the includes among them too.)

  check_architecture.py initialisers SOURCE_DIR
      Parameter structs (*_params) are built with designated initialisers, never by position:
      two adjacent doubles in the wrong order would compile silently.

  check_architecture.py layers SOURCE_DIR [ALLOW_LIST]
      The layers point only downwards: core <- theory <- sim <- io <- cli. A file in
      include/amari/LAYER or src/LAYER includes only headers of its own layer and the layers below it:
        core: core;  theory: core, theory;  sim: core, theory, sim;  io: all but cli;  cli: all.
      Includes are "amari/LAYER/..." or paths relative to the including file. ALLOW_LIST (default
      tests/architecture_allowlist.txt) names known violations, "FILE -> INCLUDE" per line, which are
      reported but do not fail; a line that matches no include any more fails (delete it).

Both print every finding (file:line: the include, and the rule it breaks) and exit 1 if any is not
allowed, else 0.
"""
import os
import re
import sys

LAYERS = ["core", "theory", "sim", "io", "cli"]
ALLOWED = {layer: set(LAYERS[: i + 1]) for i, layer in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXT = (".hpp", ".h", ".cpp", ".cc", ".ipp", ".inl")

# Headers of libraries that must stay out of the public headers: a pattern on the include's path,
# and the library's name for the message.
FORBIDDEN_IN_PUBLIC = [
    (re.compile(r"^(hdf5|hdf5_hl|H5[A-Za-z0-9_]*)\.h$"), "HDF5"),
    (re.compile(r"^fmt/"), "fmt"),
    (re.compile(r"^toml\+\+/|^toml\.h(pp)?$"), "toml++"),
    (re.compile(r"^nlohmann/"), "nlohmann/json"),
    (re.compile(r"^CLI/|^CLI11\.hpp$"), "CLI11"),
    # Boost is linked privately (CMakeLists.txt) and is not part of the installed package: a public
    # header that needs it must make it PUBLIC there (and find_dependency it), then drop this line.
    (re.compile(r"^boost/"), "Boost, private to the library"),
]


def files_under(root, sub):
    top = os.path.join(root, sub)
    for dirpath, _, names in os.walk(top):
        for name in sorted(names):
            if name.endswith(SOURCE_EXT):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def includes(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1), m.group(2)


def check_headers(root):
    found = []
    headers = list(files_under(root, "include/amari"))
    for rel in headers:
        for number, _, path in includes(root, rel):
            for pattern, library in FORBIDDEN_IN_PUBLIC:
                if pattern.search(path):
                    found.append(f"{rel}:{number}: includes {path} ({library}): a public header must not")
    print(f"public headers checked: {len(headers)} under include/amari/")
    for f in found:
        print(f)
    if found:
        print(f"FAILED: {len(found)} include(s) of HDF5, fmt, toml++, nlohmann/json, CLI11 or Boost in public headers")
        return 1
    print("PASSED: no public header includes HDF5, fmt, toml++, nlohmann/json, CLI11 or Boost")
    return 0


def layer_of(rel):
    """The layer of a file of the source tree, or None."""
    parts = rel.split(os.sep)
    if len(parts) >= 3 and parts[0] == "include" and parts[1] == "amari" and parts[2] in LAYERS:
        return parts[2]
    if len(parts) >= 2 and parts[0] == "src" and parts[1] in LAYERS:
        return parts[1]
    return None


def included_layer(root, rel, kind, path):
    """The layer of what `rel` includes: "amari/LAYER/...", or a quoted path relative to `rel` that
    lands in a layer's directory; None for anything else (the standard library, third parties)."""
    m = re.match(r"^amari/([a-z]+)/", path)
    if m:
        return m.group(1) if m.group(1) in LAYERS else None
    if kind == '"':
        target = os.path.normpath(os.path.join(os.path.dirname(rel), path))
        if os.path.exists(os.path.join(root, target)):
            return layer_of(target)
    return None


def read_allow_list(path):
    allowed = {}
    if not path or not os.path.exists(path):
        return allowed
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if "->" not in line:
                print(f"{path}:{number}: not 'FILE -> INCLUDE': {line}")
                sys.exit(2)
            a, b = (x.strip() for x in line.split("->", 1))
            allowed[(a, b)] = number
    return allowed


def check_layers(root, allow_path):
    allowed = read_allow_list(allow_path)
    used = set()
    bad, known, checked = [], [], 0
    for sub in ["include/amari"] + [f"src/{layer}" for layer in LAYERS]:
        for rel in files_under(root, sub):
            layer = layer_of(rel)
            if layer is None:
                continue
            checked += 1
            for number, kind, path in includes(root, rel):
                target = included_layer(root, rel, kind, path)
                if target is None or target in ALLOWED[layer]:
                    continue
                what = (f"{rel}:{number}: includes {path} (layer {target}), but {layer} may include only "
                        f"{', '.join(l for l in LAYERS if l in ALLOWED[layer])}")
                key = (rel, path)
                if key in allowed:
                    used.add(key)
                    known.append(what)
                else:
                    bad.append(what)
    stale = [f"{allow_path}:{n}: '{a} -> {b}' matches no include any more: delete the line"
             for (a, b), n in allowed.items() if (a, b) not in used]
    print(f"files checked: {checked} under include/amari/ and src/ (layers {' <- '.join(LAYERS)})")
    for w in known:
        print(f"known, in the allow-list: {w}")
    for w in bad + stale:
        print(w)
    if bad or stale:
        print(f"FAILED: {len(bad)} include(s) against the layering, {len(stale)} stale allow-list line(s)")
        return 1
    print(f"PASSED: every include points down the layers ({len(known)} known exception(s) in the allow-list)")
    return 0


# A parameter struct built positionally: `model_params{phi, 2.0, 0.3}` or `maps_params p{a, b}`.
# Designated initialisers (`{.sigma_w = 2.0}`) name every field; an empty `{}` is the defaults.
POSITIONAL = re.compile(r"\b(\w+_params)\b(?:\s+\w+)?\s*\{\s*(?!\.|\})")


def check_initialisers(root):
    found = []
    for sub in ("include", "src", "tests", "bench", "python"):
        for rel in files_under(root, sub):
            if not rel.endswith((".hpp", ".cpp")):
                continue
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    m = POSITIONAL.search(code)
                    # `struct x_params {` and `x_params{}` are declarations and defaults, not that.
                    if m and not re.search(r"\b(struct|class)\s+" + m.group(1), code):
                        found.append(f"{rel}:{n}: {line.strip()}")
    if found:
        print("FAILED: parameter structs initialised by position (use designated initialisers):")
        for x in found:
            print("  " + x)
        return 1
    print("PASSED: every parameter struct is initialised with designated initialisers")
    return 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "initialisers":
        return check_initialisers(os.path.abspath(sys.argv[2]))
    if len(sys.argv) < 3 or sys.argv[1] not in ("headers", "layers"):
        print(__doc__)
        return 2
    root = os.path.abspath(sys.argv[2])
    if sys.argv[1] == "headers":
        return check_headers(root)
    allow = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, "tests", "architecture_allowlist.txt")
    return check_layers(root, allow)


if __name__ == "__main__":
    sys.exit(main())
