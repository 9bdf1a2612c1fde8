#!/usr/bin/python3
"""tests/check_mpi_simulate.py AMARI MPIEXEC: one network over the ranks of an MPI job.

1. `amari simulate` (dopri5, two replicas, three draws, two Lyapunov exponents) run plainly and
   under mpirun prints the same JSON (wall times aside) and writes the same datasets and
   attributes, byte for byte (wall times aside): on 1 rank; on 2 (two groups of one rank: the
   draws split 2 + 1); on 3 (three groups, a draw each); and on 4 in two groups of two ranks (the
   draws split, each network's rows over a group). So does rk4 in float with W in half (one draw:
   its rows over all the ranks, on 1 to 4).
2. A rank killed with SIGKILL during a 2-rank run of two draws (a draw per rank) ends the job (no
   hang); the file opens with its last checkpoint, and `--resume` on 3 ranks (one group sharing
   the rows) completes it to the uninterrupted run's results. SIGINT to mpirun of such a run
   stops every rank at one sample, marks the file interrupted, and a plain `--resume` completes it.
3. The user's W (--weights) under mpirun, each rank reading only its rows (an HDF5 hyperslab, the
   rows' bytes of a .npy) and rank 0 the checksum and moments by blocks: the same JSON and
   datasets (the /network provenance included) as plainly, on 2 and 3 ranks. A plain run of it
   interrupted by SIGINT resumes on 2 ranks to the uninterrupted run's results; with W changed
   since, the resume is refused (exit 2, one line).
4. A user's W too large for memory is refused before it is read (counting the rows each process
   would read), plainly and on 2 ranks.
5. Bad input under mpirun: n smaller than the number of ranks, ranks_per_group that does not
   divide the ranks, and a command that does not spread over ranks, are refused with one line,
   exit code 2, no file.
Exit status 0 when all hold.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

amari, mpiexec = sys.argv[1], sys.argv[2]
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1",
           OMPI_MCA_mpi_yield_when_idle="1")
failures = []
GROUPS = ["/trajectory", "/lyapunov", "/stationary", "/meanfield", "/dmft"]


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def mpirun(n, args):
    return [mpiexec, "--oversubscribe", "--bind-to", "none", "-np", str(n), amari] + args


def samples_written(file):
    """The rows of /trajectory/t that a running job's file holds (0 before there is one)."""
    try:
        with h5py.File(file, "r", locking=False) as h:
            return h["/trajectory/t"].shape[0]
    except (OSError, KeyError):
        return 0


def without_times(text):
    r = json.loads(text)
    for k in ("seconds", "setup_seconds", "output"):
        r.pop(k, None)
    return r


def same_groups(a, b, groups):
    """"" when every dataset and attribute below `groups` is the same in files a and b, byte for
    byte (wall-clock attributes aside); else the first difference."""
    # (wall times; and HDF5's dimension-scale bookkeeping, references that differ between files)
    WALL = ("seconds", "setup_seconds", "DIMENSION_LIST", "REFERENCE_LIST")

    def same_attrs(x, y):
        kx = sorted(k for k in x.attrs if k not in WALL)
        ky = sorted(k for k in y.attrs if k not in WALL)
        return kx == ky and all(np.array_equal(np.asarray(x.attrs[k]), np.asarray(y.attrs[k])) for k in kx)

    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for g in groups:
            if (g in fa) != (g in fb):
                return "%s: in one file only" % g
            if g not in fa:
                continue
            names = []
            fa[g].visit(names.append)
            others = []
            fb[g].visit(others.append)
            if sorted(names) != sorted(others):
                return "%s: different members" % g
            for name in [""] + names:
                x, y = (fa[g], fb[g]) if not name else (fa[g][name], fb[g][name])
                if not same_attrs(x, y):
                    return "%s/%s: attributes differ" % (g, name)
                if isinstance(x, h5py.Dataset):
                    if x.dtype != y.dtype or x.shape != y.shape or x[()].tobytes() != y[()].tobytes():
                        return "%s/%s: data differ" % (g, name)
    return ""


RUNS = {
    "dopri5": ["--n", "150", "--t-end", "12", "--replicas", "2", "--draws", "3", "--lyapunov", "--lyapunov-k", "2",
               "--sigma-w", "1.8", "--sigma-b", "0.2", "--seed", "3"],
    "rk4-half": ["--n", "149", "--t-end", "8", "--stepper", "rk4", "--precision", "float", "--weight-precision",
                 "half", "--replicas", "3", "--lyapunov", "--seed", "4"],
}

with tempfile.TemporaryDirectory() as d:
    def path(name):
        return os.path.join(d, name)

    for label, args in RUNS.items():
        plain = subprocess.run([amari, "simulate", "--json", "-o", path(label + "-plain.h5")] + args, env=env,
                               capture_output=True, text=True, timeout=600)
        check(plain.returncode == 0, "%s: the plain run (%s)" % (label, plain.stderr.strip()[-300:]))
        ref = without_times(plain.stdout)
        groups = [g for g in GROUPS if g != "/lyapunov" or "lyapunov" in ref]
        # (one draw: its rows over the 4 ranks; three: two groups of two)
        four = ["--ranks-per-group", "2"] if "--draws" in args else []
        for n, grouping in ((1, []), (2, []), (3, []), (4, four)):
            out = path("%s-mpi%d.h5" % (label, n))
            r = subprocess.run(mpirun(n, ["simulate", "--json", "-o", out] + args + grouping), env=env,
                               capture_output=True, text=True, timeout=600)
            check(r.returncode == 0, "%s: mpirun -np %d runs (%s)" % (label, n, r.stderr.strip()[-300:]))
            if r.returncode != 0:
                continue
            check(without_times(r.stdout) == ref, "%s: mpirun -np %d: the JSON equals the plain run's" % (label, n))
            diff = same_groups(path(label + "-plain.h5"), out, groups)
            check(diff == "", "%s: mpirun -np %d: every dataset and attribute of %s equal %s" % (label, n, groups, diff))

    # Kill one rank of a 2-rank run once the file has a checkpoint past the start; resume on 3.
    # (long enough that the job is still running when the file first holds t > 5, on an idle machine
    # too: a few seconds plainly)
    LONG = ["--n", "300", "--t-end", "600", "--draws", "2", "--lyapunov", "--sigma-w", "2", "--seed", "7", "--flush-interval", "0.2"]
    full = subprocess.run([amari, "simulate", "--json", "-o", path("full.h5")] + LONG, env=env, capture_output=True,
                          text=True, timeout=600)
    check(full.returncode == 0, "the uninterrupted run for the kill test")
    job = subprocess.Popen(mpirun(2, ["simulate", "--quiet", "-o", path("cut.h5")] + LONG), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killed = False
    deadline = time.time() + 300
    while job.poll() is None and time.time() < deadline:
        if samples_written(path("cut.h5")) > 50:  # t > 5
            kids = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
            if kids:
                os.kill(int(kids[-1]), signal.SIGKILL)
                killed = True
                break
        time.sleep(0.05)
    check(killed, "a rank was killed while the run had a checkpoint")
    try:
        job.wait(timeout=120)
        ended = True
    except subprocess.TimeoutExpired:
        job.kill()
        ended = False
    check(ended and job.returncode != 0, "the job ended by itself after the kill (exit %s)" % job.returncode)
    ins = subprocess.run([amari, "inspect", path("cut.h5")], capture_output=True, text=True, env=env)
    check(ins.returncode == 0 and "status complete" not in ins.stdout, "the file of the killed job opens, not complete")
    res = subprocess.run(mpirun(3, ["simulate", "--json", "--resume", path("cut.h5")]), env=env, capture_output=True,
                         text=True, timeout=600)
    check(res.returncode == 0, "--resume on 3 ranks completes the run of 2 (%s)" % res.stderr.strip()[-300:])
    if res.returncode == 0:
        # (A resumed run reports its parameters as resolved when it started: transient = t_end / 4,
        # not -1, and so on; the results are what must be equal.)
        a, b = without_times(res.stdout), without_times(full.stdout)
        for k in ("transient", "acf_lag", "weight_precision"):
            a.pop(k), b.pop(k)
        check(a == b, "the resumed run's JSON equals the uninterrupted one's %s" % [k for k in b if a.get(k) != b[k]])
        diff = same_groups(path("full.h5"), path("cut.h5"), ["/trajectory", "/lyapunov", "/stationary"])
        check(diff == "", "the resumed run's datasets equal the uninterrupted one's %s" % diff)

    # SIGINT to mpirun of 2 ranks (a draw each): every rank stops at the same sample, the file is
    # marked interrupted, and a plain --resume completes it to the uninterrupted run's results.
    # (long enough to be running when the file first holds t > 5: about 10 s plainly on an idle machine)
    SIG = ["--n", "300", "--t-end", "3000", "--draws", "2", "--sigma-w", "2", "--seed", "9", "--flush-interval", "0.2"]
    sig_full = subprocess.run([amari, "simulate", "--quiet", "-o", path("sig_full.h5")] + SIG, env=env,
                              capture_output=True, text=True, timeout=900)
    check(sig_full.returncode == 0, "the uninterrupted run for the SIGINT test")
    job = subprocess.Popen(mpirun(2, ["simulate", "--quiet", "-o", path("sig.h5")] + SIG), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while job.poll() is None and time.time() < deadline and samples_written(path("sig.h5")) <= 50:
        time.sleep(0.05)
    job.send_signal(signal.SIGINT)
    try:
        job.wait(timeout=120)
    except subprocess.TimeoutExpired:
        job.kill()
    with h5py.File(path("sig.h5"), "r") as h:
        status = h.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else status
    check(job.returncode != 0 and status == "interrupted",
          "SIGINT to mpirun: the job stops, its file marked %s (exit %s)" % (status, job.returncode))
    res = subprocess.run([amari, "simulate", "--json", "--resume", path("sig.h5")], env=env, capture_output=True,
                         text=True, timeout=600)
    check(res.returncode == 0, "a plain --resume completes the run of 2 ranks (%s)" % res.stderr.strip()[-300:])
    if res.returncode == 0:
        diff = same_groups(path("sig_full.h5"), path("sig.h5"), ["/trajectory", "/stationary"])
        check(diff == "", "the resumed run's datasets equal the uninterrupted one's %s" % diff)

    # The user's W: an HDF5 dataset and a C-order .npy.
    rng = np.random.default_rng(11)
    N = 120
    W = rng.normal(0.0, 1.7 / np.sqrt(N), size=(N, N))
    with h5py.File(path("w.h5"), "w") as h:
        h["W"] = W
    np.save(path("w.npy"), W.astype(np.float32))
    USER = {"h5": ["--weights", path("w.h5") + ":/W", "--t-end", "10", "--replicas", "2", "--lyapunov",
                   "--seed", "5"],
            "npy-half": ["--weights", path("w.npy"), "--t-end", "6", "--stepper", "rk4", "--weight-precision",
                         "half", "--precision", "float", "--seed", "6"]}
    for label, args in USER.items():
        plain = subprocess.run([amari, "simulate", "--json", "-o", path(label + "-plain.h5")] + args, env=env,
                               capture_output=True, text=True, timeout=600)
        check(plain.returncode == 0, "weights %s: the plain run (%s)" % (label, plain.stderr.strip()[-300:]))
        ref = without_times(plain.stdout)
        for n in (2, 3):
            out = path("%s-mpi%d.h5" % (label, n))
            r = subprocess.run(mpirun(n, ["simulate", "--json", "-o", out] + args), env=env, capture_output=True,
                               text=True, timeout=600)
            check(r.returncode == 0, "weights %s: mpirun -np %d runs (%s)" % (label, n, r.stderr.strip()[-300:]))
            if r.returncode != 0:
                continue
            check(without_times(r.stdout) == ref, "weights %s: mpirun -np %d: the JSON equals the plain run's" % (label, n))
            diff = same_groups(path(label + "-plain.h5"), out, GROUPS + ["/network"])
            check(diff == "", "weights %s: mpirun -np %d: every dataset and attribute equal %s" % (label, n, diff))

    # A plain run of the user's W interrupted by SIGINT, resumed on 2 ranks (about 2 s plainly on an
    # idle machine: still running when its file first holds t > 5).
    with h5py.File(path("w400.h5"), "w") as h:
        h["W"] = rng.normal(0.0, 1.7 / np.sqrt(400), size=(400, 400))
    ULONG = ["--weights", path("w400.h5") + ":/W", "--t-end", "1000", "--lyapunov", "--seed", "8",
             "--flush-interval", "0.2"]
    full = subprocess.run([amari, "simulate", "--json", "-o", path("ufull.h5")] + ULONG, env=env,
                          capture_output=True, text=True, timeout=600)
    job = subprocess.Popen([amari, "simulate", "--quiet", "-o", path("ucut.h5")] + ULONG, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while job.poll() is None and time.time() < deadline and samples_written(path("ucut.h5")) <= 50:
        time.sleep(0.05)
    job.send_signal(signal.SIGINT)
    job.wait(timeout=120)
    check(job.returncode != 0 and samples_written(path("ucut.h5")) < 10001,
          "the plain run of the user's W was interrupted (exit %s)" % job.returncode)
    import shutil
    shutil.copy(path("ucut.h5"), path("ucut2.h5"))
    res = subprocess.run(mpirun(2, ["simulate", "--json", "--resume", path("ucut.h5")]), env=env,
                         capture_output=True, text=True, timeout=600)
    check(res.returncode == 0, "--resume of the user's W on 2 ranks (%s)" % res.stderr.strip()[-300:])
    if res.returncode == 0:
        a, b = without_times(res.stdout), without_times(full.stdout)
        for k in ("transient", "acf_lag", "weight_precision"):
            a.pop(k), b.pop(k)
        check(a == b, "the resumed run's JSON equals the uninterrupted one's %s" % [k for k in b if a.get(k) != b[k]])
        diff = same_groups(path("ufull.h5"), path("ucut.h5"), ["/trajectory", "/lyapunov", "/stationary", "/network"])
        check(diff == "", "the resumed run's datasets equal the uninterrupted one's %s" % diff)
    with h5py.File(path("w400.h5"), "r+") as h:
        h["W"][3, 4] = h["W"][3, 4] + 1e-3
    res = subprocess.run(mpirun(2, ["simulate", "--json", "--resume", path("ucut2.h5")]), env=env,
                         capture_output=True, text=True, timeout=600)
    check(res.returncode == 2 and res.stderr.count("amari: weights = ") == 1 and "checksum" in res.stderr,
          "--resume on 2 ranks with W changed since: refused once, exit 2 (%s)" % res.stderr.strip()[-300:])

    # A user's W too large for memory (a chunked dataset never written: a small file) is refused
    # before it is read, plainly and under mpirun, counting its rows as read.
    with h5py.File(path("huge.h5"), "w") as h:
        h.create_dataset("W", shape=(300000, 300000), dtype="f4", chunks=(1000, 1000))
    for cmd in ([amari], mpirun(2, [])):
        r = subprocess.run(cmd + ["simulate", "--weights", path("huge.h5") + ":/W", "--weight-precision", "half",
                                  "--precision", "float", "--t-end", "1", "-o", path("huge-run.h5")],
                           env=env, capture_output=True, text=True, timeout=120)
        check(r.returncode == 2 and r.stderr.count("amari: n = 300000") == 1 and
              "of the user's W read as float64" in r.stderr and not os.path.exists(path("huge-run.h5")),
              "a user's W of 300000^2 is refused before reading, %s (%s)" % (
                  "plainly" if len(cmd) == 1 else "on 2 ranks", r.stderr.strip()[-300:]))

    bad = subprocess.run(mpirun(3, ["simulate", "--n", "2", "--record-neurons", "1", "--t-end", "1", "-o", path("x.h5")]), env=env,
                         capture_output=True, text=True, timeout=120)
    check(bad.returncode == 2 and bad.stderr.count("amari: n = 2") == 1 and not os.path.exists(path("x.h5")),
          "n = 2 on 3 ranks: refused once, exit 2, no file (%s)" % bad.stderr.strip()[-300:])

    bad = subprocess.run(mpirun(4, ["simulate", "--n", "50", "--draws", "4", "--ranks-per-group", "3", "--t-end", "1",
                                    "-o", path("y.h5")]), env=env, capture_output=True, text=True, timeout=120)
    check(bad.returncode == 2 and bad.stderr.count("amari: ranks_per_group = 3: must divide") == 1 and
          not os.path.exists(path("y.h5")),
          "ranks_per_group = 3 on 4 ranks: refused once, exit 2, no file (%s)" % bad.stderr.strip()[-300:])

sys.exit(1 if failures else 0)
