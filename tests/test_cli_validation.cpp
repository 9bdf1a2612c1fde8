// Bad input to every command: exit code 2, one line on stderr naming the field, the value and what
// is accepted, and no file created or changed (issue 7). Table-driven: each row is a command line
// (and, where the case is about the config file, the file's text), run in a fresh directory that
// holds `existing.h5` (which must survive untouched) and a regular file `afile`.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "cli_run.hpp"

namespace {

using amari::test::run_amari;
using amari::test::scratch_dir;

struct bad_case {
  std::string args;                   // after `amari`
  std::vector<std::string> expected;  // substrings of the one-line message
  std::string config = "";            // text of bad.toml, when the case uses it
};

// A 12-neuron run, so that a case which is (wrongly) accepted finishes at once.
const std::string sim = "simulate --n 12 --t-end 1 -o out.h5 ";

const std::vector<bad_case> cases = {
    // --- sizes: N <= 0, too large to fit in memory (refused before allocating, saying how much)
    {"simulate --t-end 1 -o out.h5 --n 0", {"n = 0", "must be an integer in [1, 1000000]"}},
    {"simulate --t-end 1 -o out.h5 --n -5", {"n = -5", "must be an integer in [1, 1000000]"}},
    {"simulate --n 1000000 --t-end 1 -o out.h5", {"n = 1000000", "needs", "GB of memory", "available"}},
    {"deepnet --n 1 -o out.h5", {"n = 1", "must be an integer in [2, 1000000]"}},
    {"deepnet --n 64 --widths 16,32 -o out.h5", {"widths", "either --n", "not both"}},
    {"deepnet --widths 16,1 -o out.h5", {"widths = 1", "integer in [2, 1000000]"}},
    {"deepnet --widths 16,32.5 -o out.h5", {"widths = 32.5", "integer in [2, 1000000]"}},
    {"deepnet --widths 16 --nets 2 -o out.h5", {"nets = 2", ">= 3 with widths"}},
    {"deepnet --inputs uniform -o out.h5", {"inputs = uniform", "exact or gaussian"}},
    {"finite --inputs uniform -o out.h5", {"inputs = uniform", "exact or gaussian"}},
    {"finite --layers 0 -o out.h5", {"layers = 0", "[1, 100000]"}},
    {"finite --q0 0 -o out.h5", {"q0 = 0", "> 0"}},
    {"finite --c0 1.5 -o out.h5", {"c0 = 1.5", "[-1, 1]"}},
    {"finite --sigma-w 0 -o out.h5", {"sigma_w = 0", "> 0"}},
    {"deepnet --nets 1000000 --layers 100000 -o out.h5", {"nets = 1000000", "need", "GB of memory", "available"}},
    {"phase --sigma-w 0:1:100000 --sigma-b 0:1:100000 -o out.h5", {"sigma_w = 0:1:100000", "points"}},
    // --- values that are not numbers, or not integers
    {"simulate --t-end 1 -o out.h5 --n abc", {"n = 'abc'", "must be an integer"}},
    {"simulate --t-end 1 -o out.h5 --n 1.5", {"n = '1.5'", "must be an integer"}},
    {sim + "--sigma-w 2x", {"sigma_w = '2x'", "must be a number"}},
    // --- negative sigmas
    {sim + "--sigma-w -1", {"sigma_w = -1", "must be a finite number >= 0"}},
    {sim + "--sigma-b -0.5", {"sigma_b = -0.5", "must be a finite number >= 0"}},
    {"meanfield --sigma-w -1 -o out.h5", {"sigma_w = -1", ">= 0"}},
    {"dmft --sigma-b -0.1 -o out.h5", {"sigma_b = -0.1", ">= 0"}},
    {"maps --sigma-w -2.5 -o out.h5", {"sigma_w = -2.5", ">= 0"}},
    {"deepnet --sigma-b -0.3 -o out.h5", {"sigma_b = -0.3", ">= 0"}},
    {"edge --sigma-b -1", {"sigma_b = -1", ">= 0"}},
    // --- non-finite numbers
    {sim + "--sigma-w nan", {"sigma_w = nan", "finite"}},
    {sim + "--w0 inf", {"w0 = inf", "finite"}},
    {"meanfield --b0 -inf -o out.h5", {"b0 = -inf", "finite"}},
    {"dmft --sigma-w inf -o out.h5", {"sigma_w = inf", "finite"}},
    {"deepnet --q0 nan -o out.h5", {"q0 = nan", "finite"}},
    // --- times and steps
    {"simulate --n 12 -o out.h5 --t-end 0", {"t_end = 0", "must be a finite number > 0"}},
    {"simulate --n 12 -o out.h5 --t-end -5", {"t_end = -5", "> 0"}},
    {sim + "--stepper rk4 --dt 0", {"dt = 0", "> 0"}},
    {sim + "--stepper rk4 --dt -0.1", {"dt = -0.1", "> 0"}},
    {"simulate --n 12 --stepper rk4 --t-end 1 --dt 2 -o out.h5", {"dt = 2", "(0, t_end = 1]"}},
    {sim + "--stepper rk4 --dt 0.1 --dt-out 0.05", {"dt_out = 0.05", ">= dt = 0.1"}},
    {sim + "--dt-out 0", {"dt_out = 0", "> 0"}},
    {sim + "--transient 5", {"transient = 5", "< t_end = 1"}},
    {"meanfield --t-end -1 -o out.h5", {"t_end = -1", ">= 0"}},
    {"meanfield --dt-out 0 -o out.h5", {"dt_out = 0", "> 0"}},
    {"meanfield --times 2,1 -o out.h5", {"times = 1", "strictly increasing"}},
    {"dmft --tau-max -1 -o out.h5", {"tau_max = -1", ">= 0"}},
    {"dmft --dt-out 0 -o out.h5", {"dt_out = 0", "> 0"}},
    // --- unknown activation / stepper / precision, and tolerances
    {sim + "--phi sigmoid", {"phi = 'sigmoid'", "unknown activation", "tanh:g=<gain > 0>"}},
    {sim + "--phi tanh:g=-1", {"phi = 'tanh:g=-1'", "gain g must be a finite number > 0"}},
    {"maps --phi softplus -o out.h5", {"phi = 'softplus'", "unknown activation"}},
    {sim + "--stepper rk5", {"stepper = rk5", "rk4, dopri5, euler, map"}},
    {sim + "--precision half", {"precision = half", "double or float"}},
    {sim + "--precision float --weight-precision double", {"weight_precision = double", "not be wider than precision = float"}},
    {sim + "--weight-precision quarter", {"weight_precision = quarter", "double, float, half"}},
    {sim + "--accumulation blocked", {"accumulation = blocked", "weight_precision float or half"}},
    {sim + "--accumulation kahan", {"accumulation = kahan", "state or blocked"}},
    {"simulate --n 100000 --t-end 1 -o out.h5", {"n = 100000", "80.0 GB per weight matrix", "--weight-precision float or half"}},
    {sim + "--rtol 2", {"rtol = 2", "(0, 1)"}},
    // --- replicas, draws, networks, layers
    {sim + "--replicas 0", {"replicas = 0", "[1, 4096]"}},
    {sim + "--draws 0", {"draws = 0", "[1, 100000]"}},
    {sim + "--lyapunov --lyapunov-k 0", {"lyapunov_k = 0", "[1, 12]"}},
    {"deepnet --nets 0 -o out.h5", {"nets = 0", "[1, 1000000]"}},
    {"deepnet --layers 0 -o out.h5", {"layers = 0", "[1, 100000]"}},
    {"deepnet --c0 2 -o out.h5", {"c0 = 2", "[-1, 1]"}},
    // --- malformed ranges
    {"edge --sigma-b 0.5:4:0", {"sigma_b = 0.5:4:0", "count", "integer >= 1"}},
    {"edge --sigma-b 4:0.5:10", {"sigma_b = 4:0.5:10", "stop >= start"}},
    {"edge --sigma-b 0:1", {"sigma_b = 0:1", "start:stop:count"}},
    {"phase --sigma-w 0.5:4:0 -o out.h5", {"sigma_w = 0.5:4:0", "integer >= 1"}},
    {"phase --sigma-b 4:0.5:10 -o out.h5", {"sigma_b = 4:0.5:10", "stop >= start"}},
    {"phase --sigma-w 0.5:x:3 -o out.h5", {"sigma_w = 0.5:x:3"}},
    // --- the config file: unknown keys (with a did-you-mean), wrong TOML types, bad files
    {"simulate --config bad.toml -o out.h5", {"unknown key 'sigma_ww'", "did you mean 'sigma_w'?"}, "sigma_ww = 2.0\n"},
    {"maps --config bad.toml -o out.h5", {"unknown key 'sigmaw'", "did you mean 'sigma_w'?"}, "sigmaw = 2.0\n"},
    {"deepnet --config bad.toml -o out.h5", {"unknown key 'layer'", "did you mean 'layers'?"}, "layer = 3\n"},
    {"meanfield --config bad.toml -o out.h5", {"unknown key 'colour'", "amari meanfield"}, "colour = 1\n"},
    {"simulate --config bad.toml -o out.h5", {"n = a string in the config file", "must be an integer"}, "n = \"big\"\n"},
    {"simulate --config bad.toml -o out.h5", {"n = a number in the config file", "must be an integer"}, "n = 100.5\n"},
    {"simulate --config bad.toml -o out.h5", {"lyapunov = an integer in the config file", "true or false"}, "lyapunov = 1\n"},
    {"dmft --config bad.toml -o out.h5", {"sigma_w = a string in the config file", "must be a number"}, "sigma_w = \"2\"\n"},
    {"meanfield --config bad.toml -o out.h5", {"times = an array holding a string", "array of numbers"}, "times = [1, \"2\"]\n"},
    {"maps --config bad.toml -o out.h5", {"config = bad.toml", "not valid TOML", "line 1"}, "sigma_w = = 2\n"},
    {"maps --config missing.toml -o out.h5", {"config = missing.toml", "cannot be read"}},
    // --- unreadable inputs, unwritable outputs
    {"inspect missing.h5", {"file = missing.h5", "cannot be read", "No such file"}},
    {"inspect .", {"file = .", "is a directory"}},
    {sim + "--h0 missing.h5:/trajectory/h_final", {"h0 = missing.h5", "cannot be read"}},
    {"simulate --resume missing.h5", {"resume = missing.h5", "cannot be read"}},
    {"simulate --n 12 --t-end 1 -o nodir/out.h5", {"output = nodir/out.h5", "does not exist"}},
    {"simulate --n 12 --t-end 1 -o afile/out.h5", {"output = afile/out.h5", "not a directory"}},
    {"simulate --n 12 --t-end 1 -o existing.h5", {"output = existing.h5", "exists already", "--force"}},
    {"maps -o existing.h5", {"output = existing.h5", "exists already"}},
    {"meanfield -o existing.h5", {"output = existing.h5", "exists already"}},
    {"dmft -o existing.h5", {"output = existing.h5", "exists already"}},
    {"compare -o existing.h5", {"output = existing.h5", "exists already"}},
    {"compare --replicas 1 -o out.h5", {"replicas = 1"}},
    {"compare --sigma-w -2 -o out.h5", {"sigma_w = -2", ">= 0"}},
    {"simulate --n 12 --t-end 1 -o out.h5 --h0 afile:/x", {"h0 = afile:/x", "cannot be read"}},
    {"simulate --n 12 --t-end 1 -o out.h5 --h0 existing.h5:/", {"h0 = existing.h5:/"}},
    {"deepnet --n 10 --layers 2 --nets 2 -o existing.h5", {"output = existing.h5", "exists already"}},
    {"finite --layers 2 -o existing.h5", {"output = existing.h5", "exists already"}},
    {"phase --sigma-w 1:2:2 --sigma-b 0:1:2 -o existing.h5", {"output = existing.h5", "exists already"}},
    {"phase --sigma-w 1:2:2 --sigma-b 0:1:2 -o .", {"output = .", "is a directory"}},
    {"phase --sigma-w 1:2:2 --sigma-b 0:1:2", {"output", "give -o FILE.h5"}},
    // --- conflicting options
    {"meanfield --times 1,2 --t-end 5 -o out.h5", {"--times", "--t-end"}},
    {"meanfield --config bad.toml --t-end 5 -o out.h5", {"--times", "--t-end"}, "times = [1.0, 2.0]\n"},
    {"simulate --resume existing.h5 --n 100", {"--resume", "--n cannot be changed"}},
    {"simulate --resume existing.h5 -o out.h5", {"--resume", "--output cannot be changed"}},
    // --- the command line itself
    // an unknown option: the message of an unknown parameter in every front end (a Python keyword)
    {"simulate --sigma-ww 2 -o out.h5", {"sigma_ww: unknown parameter of `amari simulate`", "did you mean 'sigma_w'?"}},
    {"maps --sigmab=0.3", {"sigmab: unknown parameter of `amari maps`", "did you mean 'sigma_b'?", "amari maps --help"}},
    {"frobnicate", {"command = frobnicate", "accepted: simulate, meanfield"}},
    {"simulat --n 10", {"command = simulat", "did you mean 'simulate'?"}},
};

}  // namespace

TEST_CASE("bad input: exit code 2, one line naming field, value and what is accepted, and no file touched",
          "[cli][validation]") {
  REQUIRE(cases.size() >= 40);
  for (const auto& c : cases) {
    scratch_dir dir;
    const std::string existing = "not an HDF5 file: a previous result that must survive\n";
    { std::ofstream(dir / "existing.h5") << existing; }
    { std::ofstream(dir / "afile") << "x"; }
    if (!c.config.empty()) std::ofstream(dir / "bad.toml") << c.config;
    const auto before = dir.listing();
    const auto r = run_amari(c.args, dir.path);
    INFO("amari " << c.args << (c.config.empty() ? "" : "   (bad.toml: " + c.config + ")"));
    INFO("stderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    // One line, prefixed by the program's name.
    CHECK(r.err.rfind("amari: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const auto& s : c.expected) CHECK_THAT(r.err, Catch::Contains(s));
    // Nothing created, nothing changed.
    CHECK(dir.listing() == before);
    CHECK(amari::test::slurp(dir.path / "existing.h5") == existing);
  }
}
