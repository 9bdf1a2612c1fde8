#pragma once
// MPI in the command-line front end only (the library and the Python module know nothing of it).
//
// `amari` started by an MPI launcher (mpirun, mpiexec, srun) is one rank of a job; started
// otherwise it is a plain program that never calls MPI_Init, so it pays no MPI start-up and needs
// no MPI environment. The launcher is recognised from the environment it sets for its processes
// (Open MPI: OMPI_COMM_WORLD_SIZE; PMIx: PMIX_RANK; MPICH/Hydra and Slurm's PMI: PMI_SIZE), before
// MPI_Init. Built without MPI (no MPI found by CMake), a launched `amari` refuses to run rather
// than run P copies of the same job.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace amari::cli::mpi {

// True when this process was started by an MPI launcher with more than one process in the job.
bool launched();

struct message {
  int source = 0;
  int tag = 0;
  std::string bytes;
};

// The ranks of one group of a job: `size` consecutive ranks of the world, the `index`-th of `count`
// groups (MPI_Comm_split). Made by world::split; every rank of the world holds its own group.
class group {
 public:
  ~group();
  group(const group&) = delete;
  group& operator=(const group&) = delete;
  int index() const { return index_; }
  int count() const { return count_; }
  int rank() const { return rank_; }  // within the group
  int size() const { return size_; }
  // The largest of the group's ranks' values (MPI_Allreduce, MPI_MAX), on each of them.
  int max(int value) const;
  // Rank r's (of the group) block of rows of an n x cols column-major matrix y -- the rows
  // row_block(n, r, size()) of each column (sim/network.hpp) -- to every rank of the group, in
  // place (MPI_Allgatherv, one call per column): the exchange of a row_share (sim/simulate.hpp).
  void allgather_rows(double* y, std::int64_t n, std::int64_t cols) const;
  void allgather_rows(float* y, std::int64_t n, std::int64_t cols) const;

 private:
  friend class world;
  struct comm;
  group(std::unique_ptr<comm> c, int index, int count, int rank, int size);
  std::unique_ptr<comm> comm_;
  int index_ = 0, count_ = 1, rank_ = 0, size_ = 1;
};

// The job's ranks (MPI_COMM_WORLD). One per process, made by main() before anything else.
class world {
 public:
  world(int* argc, char*** argv);  // MPI_Init when launched(); a plain program otherwise
  ~world();                        // MPI_Finalize
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  bool active() const { return active_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ranks of this job on this node (MPI_Comm_split_type, shared memory): what the memory check
  // multiplies by.
  int node_size() const { return node_size_; }

  void send(int dest, int tag, const std::string& bytes) const;
  message receive() const;                  // blocking, from any rank, any tag
  std::optional<message> try_receive() const;  // a message that has arrived, or none
  // Root's bytes on every rank.
  void broadcast(std::string& bytes, int root) const;
  // The largest of every rank's value (MPI_Allreduce, MPI_MAX), on every rank.
  int max(int value) const;
  // The first rank of every group of `ranks_per_group` consecutive ranks sends `blocks` blocks of
  // `block` values; every rank receives them all: all[(j blocks + i) block ..] is block i of group
  // j's first rank (MPI_Allgatherv over a contiguous type of `block` values; the others send
  // nothing).
  void allgather_groups(const double* mine, std::int64_t blocks, std::int64_t block, int ranks_per_group,
                        double* all) const;
  // The ranks in groups of `ranks_per_group` consecutive ranks (which must divide size()); called
  // by every rank.
  std::unique_ptr<group> split(int ranks_per_group) const;
  // Ends the whole job (every rank) with this exit code: what a rank does on an error that the
  // others cannot know about, so that none of them waits forever.
  [[noreturn]] void abort(int code) const;

 private:
  bool active_ = false;
  int rank_ = 0, size_ = 1, node_size_ = 1;
};

// The process's world (null before main made it).
const world* current();

// Runs `step` on every rank (called by every rank at the same point); if it threw on any, every
// rank throws what the lowest such rank threw -- InvalidArgument (bad input: exit code 2) or Error
// -- so that rank 0, which alone speaks, says it once, and no rank waits for one that gave up.
void agree_all(const world& w, const std::function<void()>& step);

// Runs `step` on rank 0 alone (called by every rank at the same point); every rank then throws
// what it threw, as agree_all, so that none waits for a rank 0 that has given up. Outside a job
// of several ranks it is step() itself.
void agree_root(const world& w, const std::function<void()>& step);

// The ranks per group when a job shares networks by rows: the first of `sizes` (ascending) for
// which `need(size)` bytes per rank, times the `node_ranks` ranks of this node, fit in memory
// (memory_usable, core/control.hpp); the last when none does (its memory check then says what is
// missing).
int smallest_fitting(const std::vector<int>& sizes, int node_ranks, const std::function<std::uint64_t(int)>& need);

}  // namespace amari::cli::mpi
