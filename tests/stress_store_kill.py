#!/usr/bin/python3
"""Kills amari writers with SIGKILL many times and checks each file with h5py (not part of ctest:
it takes minutes). Measures how often a kill inside a flush tears the rows of that flush.

  tests/stress_store_kill.py build/test/tests/store_helper [KILLS [SEED [COMPUTE_US]]]

Each round starts `store_helper writer` with a random flush period (1..100 samples) and
compression level, lets it report 1-60 flushes, waits 0-3 ms more, kills it, and runs
tests/check_h5py.py on the file. It reports, per kill:
  ok      every sample up to the last completed flush is there, and the series agree;
  torn    the samples up to the last completed flush are there, but the kill hit a flush and the
          rows of that flush are partly visible (series of different lengths, or rows reading 0);
  LOST    the file does not open, or samples of a completed flush are missing or unreadable.
COMPUTE_US (default 0) is slept per flush period in the writer: 0 makes the writer spend nearly all
its time flushing, the worst case.
"""
import os
import random
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    helper = sys.argv[1]
    kills = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    compute_us = sys.argv[4] if len(sys.argv) > 4 else "0"
    counts = {"ok": 0, "torn": 0, "LOST": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(kills):
            path = os.path.join(tmp, f"k{i}.h5")
            every = random.choice([1, 3, 7, 20, 100])
            level = random.choice([0, 4, 9])
            p = subprocess.Popen([helper, "writer", path, str(every), str(level), compute_us],
                                 stdout=subprocess.PIPE, text=True)
            flushed = 0
            for _ in range(random.randint(1, 60)):
                line = p.stdout.readline()
                if not line:
                    break
                flushed = int(line.split()[1])
            subprocess.run(["sleep", f"{random.random() * 0.003:.6f}"])
            p.send_signal(signal.SIGKILL)
            for line in p.stdout:
                flushed = int(line.split()[1])
            p.wait()
            check = [sys.executable, os.path.join(HERE, "check_h5py.py"), "crash", path]
            r = subprocess.run(check + [str(flushed)], capture_output=True, text=True)
            lost = r.stdout.strip()
            if lost != "OK":
                kind = "LOST"
                keep = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), f"lost-{i}.h5")
                os.replace(path, keep)
                print(f"LOST kill {i}: flush every {every}, level {level}, flushed {flushed}: exit {r.returncode} "
                      f"{lost[:200]} {r.stderr.strip()[-300:]} (file kept: {keep})", flush=True)
                counts[kind] += 1
                continue
            else:
                # Are the series of equal length and fully correct (no torn rows)?
                import h5py
                import numpy as np
                with h5py.File(path, "r") as f:
                    g = f["trajectory"]
                    n = {len(g[k]) for k in ("t", "m", "traces")}
                    t = g["t"][:]
                    clean = len(n) == 1 and np.array_equal(t, 0.1 * np.arange(len(t)))
                kind = "ok" if clean else "torn"
            counts[kind] += 1
            os.remove(path)
    print(f"{kills} kills: {counts['ok']} ok, {counts['torn']} torn (last flush partly visible), "
          f"{counts['LOST']} lost flushed samples")
    return 1 if counts["LOST"] else 0


if __name__ == "__main__":
    sys.exit(main())
