"""Ctrl-C: SIGINT to an interpreter running amari.simulate raises KeyboardInterrupt within about a
second; the file is readable, marked interrupted, and resumes to the uninterrupted run's result."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import amari

# Long enough (several seconds on an idle machine) that the signal comes well before the end.
RUN = dict(n=300, t_end=2500, dt_out=0.1, stepper="rk4", dt=0.05, seed=11, flush_interval=0.5)

CHILD = r"""
import sys, time, amari
first = []
def progress(done, total):
    if not first:
        first.append(1)
        print("running", flush=True)
try:
    amari.simulate(output=sys.argv[1], progress=progress, **%r)
except KeyboardInterrupt:
    print("interrupted %%.3f" %% time.monotonic(), flush=True)
    raise
""" % (RUN,)


def test_sigint_interrupts_and_the_file_resumes(tmp):
    path = str(tmp / "run.h5")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=os.environ)
    assert child.stdout.readline().strip() == "running"
    time.sleep(0.8)  # past the first flush
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    # An uncaught KeyboardInterrupt: Python (>= 3.8) ends by SIGINT, as a shell expects of Ctrl-C.
    assert child.returncode == -signal.SIGINT, err
    assert "KeyboardInterrupt" in err
    stopped = float(out.split()[-1])
    assert stopped - sent < 1.0, "took %.2f s to stop" % (stopped - sent)

    info = amari.inspect(path)
    assert info["attributes"]["status"] == "interrupted"
    resumed = amari.simulate(resume=path, quiet=True)
    assert amari.inspect(path)["attributes"]["status"] == "complete"
    whole = amari.simulate(quiet=True, **RUN)
    assert resumed["q_final"] == whole["q_final"]
    np.testing.assert_array_equal(resumed["h_final"], whole["h_final"])


def test_resume_refuses_model_keywords(tmp):
    with pytest.raises(ValueError) as e:
        amari.simulate(resume=str(tmp / "x.h5"), sigma_w=3.0)
    assert "sigma_w cannot be changed" in str(e.value)
