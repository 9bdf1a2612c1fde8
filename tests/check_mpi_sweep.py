#!/usr/bin/python3
"""tests/check_mpi_sweep.py AMARI MPIEXEC: `amari sweep` under MPI.

1. The same sweep (simulate with dopri5, replicas, two draws and two Lyapunov exponents, over
   sigma_w x seed) run plainly and under mpirun with 1, 2 and 3 ranks prints the same JSON, byte
   for byte, and the files hold the same /sweep datasets (h5diff).
2. A rank killed with SIGKILL during a 2-rank sweep ends the job (no hang); the file opens, holds
   the points completed, and `amari sweep --resume` (plainly: another rank count) completes it to
   the same results as the uninterrupted sweep.
3. Under mpirun, a command other than sweep and simulate is refused with one line, exit code 2.
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
    for n in (1, 2, 3):
        r = subprocess.run(mpirun(n, ["sweep", "--json", "-o", path("mpi%d.h5" % n)] + SWEEP), env=env,
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, "mpirun -np %d sweep runs (%s)" % (n, r.stderr.strip()[-300:]))
        check(r.stdout == plain.stdout, "mpirun -np %d: the JSON equals the plain run's byte for byte" % n)
        h = subprocess.run(["h5diff", path("plain.h5"), path("mpi%d.h5" % n), "/sweep", "/sweep"], capture_output=True,
                           text=True)
        check(h.returncode == 0, "mpirun -np %d: h5diff of /sweep finds no difference (%s)" % (n, h.stdout[-300:]))

    # Kill one rank once the file holds a point; the job must end by itself.
    long_sweep = ["simulate", "--n", "150", "--t-end", "150", "--sigma-w", "1.5,2", "--seed", "1:4:4", "--lyapunov"]
    full = subprocess.run([amari, "sweep", "--json", "-o", path("full.h5")] + long_sweep, env=env, capture_output=True,
                          text=True, timeout=600)
    check(full.returncode == 0, "uninterrupted sweep for the kill test")
    job = subprocess.Popen(mpirun(2, ["sweep", "--quiet", "-o", path("cut.h5")] + long_sweep), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killed = False
    deadline = time.time() + 300
    while job.poll() is None and time.time() < deadline:
        ins = subprocess.run([amari, "inspect", path("cut.h5")], capture_output=True, text=True, env=env)
        m = re.search(r"(\d+) of 8 complete", ins.stdout)
        if ins.returncode == 0 and m and 1 <= int(m.group(1)) < 8:
            # mpirun's children are the ranks: kill the last started (either must end the job).
            kids = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
            if kids:
                os.kill(int(kids[-1]), signal.SIGKILL)
                killed = True
                break
        time.sleep(0.05)
    check(killed, "a rank was killed while the sweep ran")
    try:
        job.wait(timeout=120)
        ended = True
    except subprocess.TimeoutExpired:
        job.kill()
        ended = False
    check(ended and job.returncode != 0, "the job ended by itself after the kill (exit %s)" % job.returncode)
    ins = subprocess.run([amari, "inspect", path("cut.h5")], capture_output=True, text=True, env=env)
    check(ins.returncode == 0 and "complete" in ins.stdout, "the file of the killed job opens")
    res = subprocess.run([amari, "sweep", "--json", "--resume", path("cut.h5")], env=env, capture_output=True,
                         text=True, timeout=600)
    check(res.returncode == 0, "a plain --resume completes the sweep of 2 ranks (%s)" % res.stderr.strip())
    check(res.stdout == full.stdout, "the resumed sweep's JSON equals the uninterrupted one's byte for byte")

    bad = subprocess.run(mpirun(2, ["dmft", "--sigma-w", "2", "-o", path("x.h5")]), env=env,
                         capture_output=True, text=True, timeout=120)
    check(bad.returncode == 2 and bad.stderr.count("amari: mpi:") == 1 and not os.path.exists(path("x.h5")),
          "mpirun amari dmft: refused once, exit 2, no file (%s)" % bad.stderr.strip()[-300:])

sys.exit(1 if failures else 0)
