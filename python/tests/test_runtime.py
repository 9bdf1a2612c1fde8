"""The module's run-time behaviour: the GIL is released during computations, and the OpenMP wait
policy is set at import unless the user chose one."""
import os
import subprocess
import sys
import threading
import time

import numpy as np

import amari


def ticks_during(fn):
    """How often a Python thread ran while fn() computed (0 if fn held the GIL throughout)."""
    done = threading.Event()
    count = [0]

    def tick():
        while not done.is_set():
            count[0] += 1
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.05)
    before = count[0]
    t0 = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t0
    after = count[0]
    done.set()
    t.join()
    return after - before, elapsed


def test_gil_is_released():
    # Each case makes `calls` calls whose work grows with k. k doubles until the case lasts at
    # least 0.25 s, so that the count means the same on a fast machine as on a slow one.
    def repeat(calls, f):
        for _ in range(calls):
            f()
        return calls

    cases = [("simulate", lambda k: repeat(1, lambda: amari.simulate(n=200 * k, t_end=200, quiet=True))),
             ("maps", lambda k: repeat(1, lambda: amari.maps(sigma_w=np.linspace(0.5, 4, 150 * k)[:, None],
                                                             sigma_b=np.linspace(0, 1, 60)[None, :],
                                                             quiet=True))),
             ("phase", lambda k: repeat(1, lambda: amari.phase(sigma_w="0.5:4:%d" % (100 * k),
                                                               sigma_b="0:1:60", quiet=True))),
             # One solve is short (about 50 ms here), so this case repeats it.
             ("dmft", lambda k: repeat(2 * k, lambda: amari.dmft(quiet=True)))]
    for name, fn in cases:
        for k in (1, 2, 4, 8, 16, 32):
            calls = [0]
            ticks, elapsed = ticks_during(lambda: calls.__setitem__(0, fn(k)))
            if elapsed >= 0.25:
                break
        assert elapsed >= 0.25, (name, k, elapsed)
        # A thread that sleeps 1 ms per tick ticks hundreds of times per second when it can run.
        # With the GIL held throughout each call it could tick only between calls: about once
        # per call, so the count must also exceed 5 per call.
        assert ticks > max(20 * elapsed, 5 * calls[0]), (name, k, ticks, elapsed, calls[0])


def run(code, **env):
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True).stdout.strip()


def test_openmp_wait_policy():
    code = "import os, amari; print(os.environ.get('OMP_WAIT_POLICY'))"
    assert run(code) == "PASSIVE"
    assert run(code, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
    assert run(code, GOMP_SPINCOUNT="1000") == "None"


def test_tqdm_bar_after_two_seconds():
    # With tqdm installed (tools/setup), a run longer than 2 s draws a bar on stderr; quiet=True
    # draws none.
    code = ("import amari, time; t = time.time(); "
            "amari.simulate(n=300, t_end=6000, dt_out=1, stepper='rk4', quiet=%s); "
            "print('%%.1f' %% (time.time() - t))")
    for quiet in (False, True):
        p = subprocess.run([sys.executable, "-c", code % quiet], capture_output=True, text=True, check=True)
        assert float(p.stdout) > 2.5, "the run must outlast tqdm's 2 s delay: %s s" % p.stdout
        assert ("amari simulate" in p.stderr) == (not quiet), p.stderr
