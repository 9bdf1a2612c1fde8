#!/usr/bin/python3
"""tests/check_mpi_sweep.py AMARI MPIEXEC: `amari sweep` under MPI.

1. The same sweep (simulate with dopri5, replicas, two draws and two Lyapunov exponents, over
   sigma_w x seed) run plainly and under mpirun with 1, 2 and 3 ranks prints the same JSON, byte
   for byte, and the files hold the same /sweep datasets (h5diff).
2. A rank killed with SIGKILL during a 2-rank sweep ends the job (no hang); the file opens, holds
   the points completed, and `amari sweep --resume` on another rank count completes it to the same
   results as the uninterrupted sweep (JSON byte for byte, result datasets by h5diff). Twice: a
   worker (rank 1) killed and resumed plainly, and rank 0 (the writer) killed and resumed on 3
   ranks.
3. Under mpirun, a command other than sweep and simulate is refused with one line, exit code 2.
4. Rank groups (--ranks-per-group): each simulate point run by a group of ranks sharing its rows of
   W gives the same results (2 ranks in one group, 4 in two groups of 2, 3 in one group of 3; and
   with --keep, every dataset of every product); a partner of the writer killed during a grouped
   sweep ends the job, and --resume on 3 ranks in one group completes it to the same results; a bad
   group size, or groups for a command other than simulate, is refused in one line, exit code 2.
Exit status 0 when all hold.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

amari, mpiexec = sys.argv[1], sys.argv[2]
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def mpirun(n, args, **kw):
    return [mpiexec, "--oversubscribe", "--bind-to", "none", "-np", str(n), amari] + args


SWEEP = ["simulate", "--n", "120", "--t-end", "30", "--replicas", "2", "--draws", "2", "--lyapunov",
         "--lyapunov-k", "2", "--sigma-w", "1.2,1.8,2.4", "--seed", "1,2"]

with tempfile.TemporaryDirectory() as d:
    def path(name):
        return os.path.join(d, name)

    plain = subprocess.run([amari, "sweep", "--json", "-o", path("plain.h5")] + SWEEP, env=env, capture_output=True,
                           text=True, timeout=600)
    check(plain.returncode == 0, "plain sweep runs (%s)" % plain.stderr.strip())
    ref = json.loads(plain.stdout)
    check(ref["done"] == 6 and "lyapunov_spectrum" in ref and "q_final_mean_over_seed" in ref,
          "plain sweep: 6 points, Lyapunov spectrum, means over seeds")
    for n, group in ((1, 0), (2, 0), (3, 0), (2, 2), (4, 2), (3, 3)):
        label = "mpirun -np %d%s" % (n, " --ranks-per-group %d" % group if group else "")
        name = path("mpi%d_%d.h5" % (n, group))
        r = subprocess.run(mpirun(n, ["sweep", "--json", "-o", name] + (["--ranks-per-group", str(group)] if group else [])
                                  + SWEEP), env=env, capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, "%s sweep runs (%s)" % (label, r.stderr.strip()[-300:]))
        check(r.stdout == plain.stdout, "%s: the JSON equals the plain run's byte for byte" % label)
        h = subprocess.run(["h5diff", path("plain.h5"), name, "/sweep", "/sweep"], capture_output=True, text=True)
        check(h.returncode == 0, "%s: h5diff of /sweep finds no difference (%s)" % (label, h.stdout[-300:]))

    # Kill one rank once the file holds a point; the job must end by itself. Once a worker (rank 1),
    # resumed plainly; once rank 0, which writes the file, resumed on 3 ranks (another rank count).
    long_sweep = ["simulate", "--n", "150", "--t-end", "150", "--sigma-w", "1.5,2", "--seed", "1:4:4", "--lyapunov"]
    full = subprocess.run([amari, "sweep", "--json", "-o", path("full.h5")] + long_sweep, env=env, capture_output=True,
                          text=True, timeout=600)
    check(full.returncode == 0, "uninterrupted sweep for the kill test")

    def rank_of(pid):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                for item in f.read().split(b"\0"):
                    if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                        return int(item.split(b"=", 1)[1])
        except OSError:
            pass
        return None

    def points_complete(name):
        ins = subprocess.run([amari, "inspect", path(name)], capture_output=True, text=True, env=env)
        m = re.search(r"(\d+) of 8 complete", ins.stdout)
        return int(m.group(1)) if ins.returncode == 0 and m else None

    # Third: the two ranks in one group sharing each point's rows; rank 1 (rank 0's partner) killed,
    # resumed on 3 ranks in one group.
    for victim, resume_ranks, group in ((1, 1, 0), (0, 3, 0), (1, 3, 2)):
        name = "cut%d_%d.h5" % (victim, group)
        what = "rank %d killed%s" % (victim, " in a group of 2" if group else "")
        job = subprocess.Popen(mpirun(2, ["sweep", "--quiet", "-o", path(name)] +
                                      (["--ranks-per-group", "2"] if group else []) + long_sweep), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        killed, seen = False, None
        deadline = time.time() + 300
        while job.poll() is None and time.time() < deadline:
            seen = points_complete(name)
            if seen is not None and 1 <= seen < 8:
                # mpirun's children are the ranks; their environment says which is which.
                kids = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
                target = [k for k in kids if rank_of(k) == victim]
                if target:
                    os.kill(int(target[0]), signal.SIGKILL)
                    killed = True
                    break
            time.sleep(0.05)
        check(killed, "%s while the sweep ran (%s of 8 points complete)" % (what, seen))
        try:
            job.wait(timeout=120)
            ended = True
        except subprocess.TimeoutExpired:
            job.kill()
            job.wait()
            ended = False
        check(ended and job.returncode != 0, "%s: the job ended by itself (exit %s)" % (what, job.returncode))
        after = points_complete(name)
        check(after is not None and after >= seen,
              "%s: the file opens and keeps the points completed before the kill (%s >= %s)" % (what, after, seen))
        resume = ["sweep", "--json", "--resume", path(name)] + (["--ranks-per-group", "3"] if group else [])
        res = subprocess.run(mpirun(resume_ranks, resume) if resume_ranks > 1 else [amari] + resume, env=env,
                             capture_output=True, text=True, timeout=600)
        check(res.returncode == 0, "%s: --resume on %d rank(s) completes the sweep (%s)"
              % (what, resume_ranks, res.stderr.strip()[-300:]))
        check(res.stdout == full.stdout, "%s: the resumed sweep's JSON equals the uninterrupted one's byte for byte" % what)
        grid = [k for k in json.loads(full.stdout) if k not in ("command", "dims", "axes", "points", "done")]
        diffs = [k for k in grid if subprocess.run(["h5diff", path("full.h5"), path(name), "/sweep/" + k, "/sweep/" + k],
                                                   capture_output=True).returncode != 0]
        check(not diffs and len(grid) > 10, "%s: h5diff finds the %d result datasets equal to the uninterrupted file's (%s)"
              % (what, len(grid), diffs))

    # --keep on 2 ranks: the products of rank 1's points travel to rank 0 as file bytes; each equals
    # the plain --keep sweep's.
    small = ["simulate", "--n", "60", "--t-end", "5", "--lyapunov", "--sigma-w", "1.5,2", "--seed", "1,2"]
    kp = subprocess.run([amari, "sweep", "--quiet", "--keep", "-o", path("keep_plain.h5")] + small, env=env,
                        capture_output=True, text=True, timeout=600)
    for ranks, group in ((2, 0), (4, 2)):
        label = "--keep on %d ranks%s" % (ranks, " in groups of %d" % group if group else "")
        name = path("keep_mpi%d.h5" % ranks)
        km = subprocess.run(mpirun(ranks, ["sweep", "--quiet", "--keep", "-o", name] +
                                   (["--ranks-per-group", str(group)] if group else []) + small), env=env,
                            capture_output=True, text=True, timeout=600)
        check(kp.returncode == 0 and km.returncode == 0, "%s and plainly (%s)" % (label, km.stderr.strip()[-300:]))
        # Dataset by dataset (a group's attributes include the wall-clock `seconds`, which differ).
        same, total = 0, 0
        for k in range(4):
            root = "/sweep/points/%d/product" % k
            ls = subprocess.run(["h5ls", "-r", path("keep_plain.h5") + root], capture_output=True, text=True).stdout
            for line in ls.splitlines():
                if " Dataset " not in line:
                    continue
                where = root + line.split()[0]
                total += 1
                same += subprocess.run(["h5diff", path("keep_plain.h5"), name, where, where],
                                       capture_output=True).returncode == 0
        check(total >= 4 * 20 and same == total, "%s: every dataset of every point's product equals the plain "
              "sweep's (h5diff: %d of %d)" % (label, same, total))

    # Bad group sizes: one line from rank 0, exit code 2, no file.
    for args, says in ((["--ranks-per-group", "3"] + small, "ranks_per_group = 3: must divide the number of MPI ranks (2)"),
                       (["--ranks-per-group", "2", "maps", "--sigma-w", "1,2"],
                        "ranks_per_group = 2: shares the rows of W of simulate's points only"),
                       (["--ranks-per-group", "-1"] + small, "ranks_per_group = -1: must be 0 (chosen) or a divisor")):
        out = path("bad_group.h5")
        r = subprocess.run(mpirun(2, ["sweep", "--quiet", "-o", out] + args), env=env, capture_output=True, text=True,
                           timeout=120)
        lines = [l for l in r.stderr.splitlines() if l.startswith("amari:")]
        check(r.returncode == 2 and len(lines) == 1 and says in lines[0] and not os.path.exists(out),
              "mpirun -np 2 amari sweep %s: refused once, exit 2, no file (%s)" % (" ".join(args[:2]), r.stderr.strip()[-300:]))

    bad = subprocess.run(mpirun(2, ["dmft", "--sigma-w", "2", "-o", path("x.h5")]), env=env,
                         capture_output=True, text=True, timeout=120)
    check(bad.returncode == 2 and bad.stderr.count("amari: mpi:") == 1 and not os.path.exists(path("x.h5")),
          "mpirun amari dmft: refused once, exit 2, no file (%s)" % bad.stderr.strip()[-300:])

sys.exit(1 if failures else 0)
