// MPI in the front end (mpi.hpp).
#include "mpi.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <fmt/format.h>

#include "amari/core/control.hpp"
#include "amari/core/error.hpp"
#include "amari/sim/network.hpp"

#ifdef AMARI_MPI
// The C API only (the deprecated C++ bindings would need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace amari::cli::mpi {

namespace {
const world* the_world = nullptr;

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}
}  // namespace

bool launched() {
  // The job size where the launcher says it; PMIx alone does not say it: treat as launched.
  if (const int n = env_int("OMPI_COMM_WORLD_SIZE")) return n > 1;
  if (const int n = env_int("PMI_SIZE")) return n > 1;
  return std::getenv("PMIX_RANK") != nullptr;
}

const world* current() { return the_world; }

namespace {
// What `step` did, as bytes to send: "0" (it returned), or "2" (bad input) or "1" (another
// failure) followed by its message.
std::string outcome_of(const std::function<void()>& step) {
  try {
    step();
  } catch (const InvalidArgument& e) {
    return std::string("2") + e.what();
  } catch (const std::exception& e) {
    return std::string("1") + e.what();
  }
  return "0";
}

// Throws what `outcome` says was thrown (nothing for "0").
void rethrow(const std::string& outcome) {
  if (outcome[0] == '2') throw InvalidArgument(outcome.substr(1));
  if (outcome[0] == '1') throw Error(outcome.substr(1));
}
}  // namespace

void agree_all(const world& w, const std::function<void()>& step) {
  std::string outcome = outcome_of(step);
  const int ranks = w.size();
  const int first = ranks - w.max(outcome[0] != '0' ? ranks - w.rank() : 0);
  if (first == ranks) return;
  w.broadcast(outcome, first);
  rethrow(outcome);
}

void agree_root(const world& w, const std::function<void()>& step) {
  if (!w.active() || w.size() == 1) return step();
  std::string outcome = w.rank() == 0 ? outcome_of(step) : std::string("0");
  w.broadcast(outcome, 0);
  rethrow(outcome);
}

int smallest_fitting(const std::vector<int>& sizes, int node_ranks, const std::function<std::uint64_t(int)>& need) {
  const std::uint64_t usable = memory_usable();
  for (int s : sizes)
    if (usable == std::numeric_limits<std::uint64_t>::max() || need(s) * static_cast<std::uint64_t>(node_ranks) <= usable)
      return s;
  return sizes.back();
}

#ifdef AMARI_MPI

namespace {
void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed");
}
}  // namespace

world::world(int* argc, char*** argv) {
  the_world = this;
  if (!launched()) return;
  check(MPI_Init(argc, argv), "MPI_Init");
  // Errors return codes (checked) instead of aborting silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  MPI_Comm_size(node, &node_size_);
  MPI_Comm_free(&node);
}

world::~world() {
  if (active_) MPI_Finalize();
  the_world = nullptr;
}

void world::send(int dest, int tag, const std::string& bytes) const {
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD), "MPI_Send");
}

namespace {
message receive_probed(const MPI_Status& st) {
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  message m{st.MPI_SOURCE, st.MPI_TAG, std::string(static_cast<std::size_t>(count), '\0')};
  check(MPI_Recv(m.bytes.data(), count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return m;
}
}  // namespace

message world::receive() const {
  MPI_Status st;
  check(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st), "MPI_Probe");
  return receive_probed(st);
}

std::optional<message> world::try_receive() const {
  int flag = 0;
  MPI_Status st;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  return receive_probed(st);
}

void world::broadcast(std::string& bytes, int root) const {
  std::uint64_t n = bytes.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
  bytes.resize(n);
  check(MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

int world::max(int value) const {
  int out = value;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

struct group::comm {
  MPI_Comm c = MPI_COMM_NULL;
};

group::group(std::unique_ptr<comm> c, int index, int count, int rank, int size)
    : comm_(std::move(c)), index_(index), count_(count), rank_(rank), size_(size) {}

group::~group() {
  if (comm_ && comm_->c != MPI_COMM_NULL) MPI_Comm_free(&comm_->c);
}

namespace {
template <class T>
void gather_rows(T* y, std::int64_t n, std::int64_t cols, int ranks, MPI_Datatype type, MPI_Comm comm) {
  if (n > std::numeric_limits<int>::max())
    throw Error(fmt::format("MPI: a network of {} neurons is beyond MPI's int counts", n));
  std::vector<int> count, first;
  for (int r = 0; r < ranks; ++r) {
    const row_range b = row_block(n, r, ranks);
    first.push_back(static_cast<int>(b.first));
    count.push_back(static_cast<int>(b.count));
  }
  for (std::int64_t c = 0; c < cols; ++c)
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, y + c * n, count.data(), first.data(), type, comm),
          "MPI_Allgatherv");
}
}  // namespace

int group::max(int value) const {
  int out = value;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm_->c), "MPI_Allreduce");
  return out;
}

void group::allgather_rows(double* y, std::int64_t n, std::int64_t cols) const {
  gather_rows(y, n, cols, size_, MPI_DOUBLE, comm_->c);
}
void group::allgather_rows(float* y, std::int64_t n, std::int64_t cols) const {
  gather_rows(y, n, cols, size_, MPI_FLOAT, comm_->c);
}

void world::allgather_groups(const double* mine, std::int64_t blocks, std::int64_t block, int ranks_per_group,
                             double* all) const {
  constexpr std::int64_t most = std::numeric_limits<int>::max();
  const std::int64_t groups = size_ / ranks_per_group;
  if (block > most || blocks * groups > most)
    throw Error(fmt::format("MPI: a gather of {} blocks of {} numbers is beyond MPI's int counts", blocks * groups, block));
  MPI_Datatype type;
  check(MPI_Type_contiguous(static_cast<int>(block), MPI_DOUBLE, &type), "MPI_Type_contiguous");
  check(MPI_Type_commit(&type), "MPI_Type_commit");
  std::vector<int> count(static_cast<std::size_t>(size_), 0), first(static_cast<std::size_t>(size_), 0);
  for (int r = 0; r < size_; ++r) {
    first[std::size_t(r)] = static_cast<int>(r / ranks_per_group * blocks);
    if (r % ranks_per_group == 0) count[std::size_t(r)] = static_cast<int>(blocks);
  }
  const int rc = MPI_Allgatherv(mine, count[std::size_t(rank_)], type, all, count.data(), first.data(), type,
                                MPI_COMM_WORLD);
  MPI_Type_free(&type);
  check(rc, "MPI_Allgatherv");
}

std::unique_ptr<group> world::split(int ranks_per_group) const {
  auto c = std::make_unique<group::comm>();
  const int index = rank_ / ranks_per_group;
  check(MPI_Comm_split(MPI_COMM_WORLD, index, rank_, &c->c), "MPI_Comm_split");
  MPI_Comm_set_errhandler(c->c, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(c->c, &rank);
  MPI_Comm_size(c->c, &size);
  return std::unique_ptr<group>(new group(std::move(c), index, size_ / ranks_per_group, rank, size));
}

void world::abort(int code) const {
  std::fflush(stdout);
  std::fflush(stderr);
  if (active_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#else  // built without MPI

world::world(int*, char***) {
  the_world = this;
  if (launched())
    throw InvalidArgument(
        "mpi: amari was started by an MPI launcher (mpirun, srun) but built without MPI; accepted: a plain start, "
        "or a build with MPI (tools/setup installs Open MPI; rebuild)");
}
world::~world() { the_world = nullptr; }
void world::send(int, int, const std::string&) const {}
message world::receive() const { return {}; }
std::optional<message> world::try_receive() const { return std::nullopt; }
void world::broadcast(std::string&, int) const {}
int world::max(int value) const { return value; }
struct group::comm {};
group::group(std::unique_ptr<comm> c, int index, int count, int rank, int size)
    : comm_(std::move(c)), index_(index), count_(count), rank_(rank), size_(size) {}
group::~group() = default;
int group::max(int value) const { return value; }
void group::allgather_rows(double*, std::int64_t, std::int64_t) const {}
void group::allgather_rows(float*, std::int64_t, std::int64_t) const {}
void world::allgather_groups(const double* mine, std::int64_t blocks, std::int64_t block, int, double* all) const {
  std::copy_n(mine, blocks * block, all);
}
std::unique_ptr<group> world::split(int) const {
  return std::unique_ptr<group>(new group(std::make_unique<group::comm>(), 0, 1, 0, 1));
}
void world::abort(int code) const { std::_Exit(code); }

#endif

}  // namespace amari::cli::mpi
