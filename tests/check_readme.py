#!/usr/bin/python3
"""tests/check_readme.py AMARI README.md: run every example of the README and compare its output.

The examples are the ```console blocks: a line "$ amari ARGS" is a command (run with AMARI for
`amari`, in one scratch directory shared by all blocks, so that later examples can read the files
of earlier ones), and so is "$ tools/plot ARGS" (the checkout's tools/plot, beside the README, with
AMARI for its theory overlays); the lines after it, up to the next "$ " line or the block's end, are its output
as the README shows it. A command must exit with 0, and its output must match the README's:
line by line, token by token (whitespace-separated), where
  - numbers agree to 1e-6 relative (they are printed with more digits than that),
  - a line of JSON is compared as JSON (the same keys, numbers to 1e-6 relative),
  - a token "..." in the README matches anything up to the end of that line,
  - a line "..." matches any number of output lines,
  - a number followed by "s" (seconds of wall time) matches any number.
Exit status 0 when every example matches; otherwise the differences, and 1.
"""
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile

NUMBER = re.compile(r"^([(\[]*)([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([)\],;:%]*)$")


def blocks(text):
    out, cur = [], None
    for line in text.splitlines():
        if cur is None:
            if line.strip() == "```console":
                cur = []
        elif line.strip() == "```":
            out.append(cur)
            cur = None
        else:
            cur.append(line)
    return out


def commands(block):
    cmds = []
    for line in block:
        if line.startswith("$ "):
            cmds.append([line[2:], []])
        elif cmds:
            cmds[-1][1].append(line)
    return cmds


def token_match(want, got, prev_want):
    if want == got:
        return True
    mw, mg = NUMBER.match(want), NUMBER.match(got)
    if mw and mg and mw.group(1) == mg.group(1) and mw.group(3) == mg.group(3):
        a, b = float(mw.group(2)), float(mg.group(2))
        return a == b or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return False


def json_match(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_match(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_match(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return a == b


def line_match(want, got):
    if want.lstrip().startswith(("{", "[")):  # a JSON line: compared as JSON, numbers to 1e-6
        try:
            return json_match(json.loads(want), json.loads(got))
        except ValueError:
            return False
    wt, gt = want.split(), got.split()
    for i, w in enumerate(wt):
        if w == "...":
            return True
        if i >= len(gt):
            return False
        seconds = i + 1 < len(wt) and wt[i + 1].startswith("s") and wt[i + 1].rstrip(",;)") == "s"
        if seconds and NUMBER.match(w) and NUMBER.match(gt[i]):
            continue
        if not token_match(w, gt[i], wt[i - 1] if i else ""):
            return False
    return len(wt) == len(gt)


def output_match(want, got):
    """want may hold "..." lines (any number of lines). Returns None or the first mismatch."""
    def rec(i, j):
        if i == len(want):
            return None if j == len(got) else f"unexpected output line: {got[j]!r}"
        if want[i].strip() == "...":
            best = None
            for k in range(j, len(got) + 1):
                r = rec(i + 1, k)
                if r is None:
                    return None
                best = best or r
            return best
        if j == len(got):
            return f"missing output line: {want[i]!r}"
        if not line_match(want[i], got[j]):
            return f"README: {want[i]!r}\n      got:    {got[j]!r}"
        return rec(i + 1, j + 1)
    return rec(0, 0)


def main():
    amari, readme = os.path.abspath(sys.argv[1]), sys.argv[2]
    with open(readme) as f:
        text = f.read()
    failures, count = 0, 0
    with tempfile.TemporaryDirectory(prefix="amari-readme-") as work:
        for block in blocks(text):
            for cmd, want in commands(block):
                args = shlex.split(cmd)
                if not args or args[0] not in ("amari", "tools/plot"):
                    continue
                count += 1
                exe = amari if args[0] == "amari" else os.path.join(os.path.dirname(os.path.abspath(readme)), args[0])
                proc = subprocess.run([exe] + args[1:], cwd=work, capture_output=True, text=True,
                                      stdin=subprocess.DEVNULL, env=dict(os.environ, AMARI=amari))
                got = [l.rstrip() for l in proc.stdout.splitlines()]
                while want and not want[-1].strip():
                    want = want[:-1]
                why = None
                if proc.returncode != 0:
                    why = f"exit code {proc.returncode}: {proc.stderr.strip()}"
                else:
                    why = output_match([w.rstrip() for w in want], got)
                if why:
                    failures += 1
                    print(f"FAILED: $ {cmd}\n      {why}")
                    print("      its output was:\n" + "\n".join("        " + l for l in got))
                else:
                    print(f"ok: $ {cmd}")
    print(f"{count} README examples run, {failures} failed")
    if count == 0:
        print("no `$ amari` example found in the README")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
