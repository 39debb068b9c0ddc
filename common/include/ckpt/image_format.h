// The checkpoint image format, version 1: one file per process.
//
//   FileHeader (fixed size, little-endian, its own CRC)
//   Section*   each = SectionHeader + payload of `size` bytes, CRC32C of payload
//   End        a section with tag kEnd whose payload counts what came before
//
// Sections appear in this order: Process, Threads, CpuAffinity, HostAddresses, Signals, Fds,
// FileData*, SysvObjects, ShmObjects, MemRegions, MemChunk*, End. A reader skips (with a warning)
// tags it does not know. A file without an End section, or whose End counts disagree, is truncated.
// docs/image_format.md describes every field; keep both in step.
#pragma once

#include <cstdint>
#include <string_view>

#include "ckpt/byte_codec.h"

namespace ckpt::image {

inline constexpr char kMagic[8] = {'C', 'K', 'P', 'T', 'I', 'M', 'G', '1'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kArchX86_64 = 62;  // ELF EM_X86_64
inline constexpr uint32_t kPageSize = 4096;
// Memory is cut into chunks of at most this many pages; each chunk is one
// independent zstd frame, so chunks compress and decompress in parallel.
inline constexpr uint32_t kChunkPages = 256;  // 1 MiB

struct FileHeader {
  char magic[8];
  uint32_t version;      // kFormatVersion
  uint32_t arch;         // kArchX86_64
  uint32_t header_size;  // sizeof(FileHeader)
  uint32_t flags;        // reserved, 0
  char build_id[48];     // runtime build id, NUL-padded
  uint64_t created_ns;   // CLOCK_REALTIME at checkpoint
  uint64_t generation;   // checkpoint generation number
  uint32_t reserved;
  uint32_t header_crc;  // CRC32C of all bytes before this field
};
static_assert(sizeof(FileHeader) == 96);

enum class Tag : uint32_t {
  kProcess = 1,
  kThreads = 2,
  kSignals = 3,
  kFds = 4,
  kFileData = 5,  // content of a file unlinked while open, or open read-write
  kMemRegions = 6,
  kMemChunk = 7,
  kShmObjects = 8,      // shared memory objects the process maps (ShmRecords)
  kSysvObjects = 9,     // System V semaphore sets and message queues (SysvRecords)
  kCpuAffinity = 12,    // each thread's CPU binding (sched_getaffinity)
  kHostAddresses = 13,  // the host's own network addresses (virtual form)
  kJobDirs = 14,        // directories the job made for its private files (JobDirRecords)
  kEnd = 0x454e4421,    // "!DNE"
};

struct SectionHeader {
  uint32_t tag;  // Tag
  uint32_t flags;
  uint64_t size;  // payload bytes following this header
  uint32_t crc;   // CRC32C of the payload
  uint32_t reserved;
};
static_assert(sizeof(SectionHeader) == 24);

// --- Section payloads. Each has encode() and decode(); decode returns false
// --- on malformed input and never reads out of bounds.

inline constexpr int kNumRlimits = 16;

struct MmLayout {
  uint64_t start_code, end_code, start_data, end_data;
  uint64_t start_brk, brk, start_stack;
  uint64_t arg_start, arg_end, env_start, env_end;
};

struct ProcessRecord {
  int32_t vpid = 0, vppid = 0, vpgid = 0, vsid = 0;
  int32_t real_pid = 0;  // real pid when checkpointed
  uint32_t uid = 0, gid = 0;
  uint32_t umask = 0;
  uint32_t restart_count = 0;  // how many restarts this process went through
  std::string_view host;
  std::string_view exe;      // /proc/self/exe at launch
  std::string_view cmdline;  // argv joined by '\0'
  std::string_view cwd;
  std::string_view comm;  // prctl PR_GET_NAME
  struct {
    uint64_t cur, max;
  } rlimits[kNumRlimits] = {};
  MmLayout mm = {};
  // Where the restored runtime lives: the restorer writes the address of the
  // RestoreArgs into *restart_hook and jumps to the checkpoint thread.
  uint64_t restart_hook = 0;
  uint64_t stdio_kinds = 0;  // reserved
  // The process's children when checkpointed: ChildRecords one after another.
  std::string_view children;

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// A child process as its parent saw it at the checkpoint.
enum class ChildState : uint32_t {
  kMember = 1,   // in the computation: has an image of its own
  kZombie = 2,   // exited, not yet reaped: recreated, still waitable
  kOutside = 3,  // not under checkpoint control: not restored
};

struct ChildRecord {
  int32_t vpid = 0;
  int32_t real_pid = 0;
  ChildState state = ChildState::kMember;
  int32_t wait_code = 0;    // zombies: siginfo si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED)
  int32_t wait_status = 0;  // zombies: exit status or signal

  static constexpr size_t kSize = 20;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// The saved callee-saved context of a thread (see core/context_switch.S).
struct JumpContext {
  uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
static_assert(sizeof(JumpContext) == 64);

struct ThreadRecord {
  int32_t vtid = 0;
  int32_t real_tid = 0;
  uint32_t is_ckpt_thread = 0;  // the runtime's checkpoint thread
  uint64_t fs_base = 0;
  uint64_t tid_addr = 0;  // &struct pthread::tid (glibc's cached tid)
  JumpContext ctx = {};   // where the thread resumes after restart
  uint64_t sigmask = 0;   // blocked signals when stopped (informational)

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// One thread's CPU binding when checkpointed: the kernel's cpumask as
// sched_getaffinity(2) fills it (64-bit words, bit c = CPU c, OS numbering).
struct CpuAffinityRecord {
  int32_t vtid = 0;
  std::string_view mask;  // 8 to kMaxCpuMaskBytes bytes

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};
inline constexpr uint32_t kMaxCpuMaskBytes = 1024;  // 8192 CPUs

// The host's non-loopback IPv4 and IPv6 addresses at the checkpoint, each a
// 16-byte in6_addr (IPv4 mapped, ::ffff:a.b.c.d), in their virtual form: an
// image taken after a move still names the original host's addresses.
struct HostAddressesRecord {
  uint32_t count = 0;
  std::string_view addrs;  // count * 16 bytes

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);  // the whole payload; nothing may follow
};
inline constexpr uint32_t kMaxHostAddresses = 4096;

struct SignalRecord {
  uint32_t signo = 0;
  uint64_t handler = 0;  // SIG_DFL=0, SIG_IGN=1, else an address
  uint64_t flags = 0;    // SA_*
  uint64_t restorer = 0;
  uint64_t mask = 0;

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

enum class FdKind : uint32_t {
  kRegular = 1,   // a regular file, reopened by path
  kUnlinked = 2,  // a regular file unlinked while open: content in FileData
  kDirectory = 3,
  kDevice = 4,  // character device such as /dev/null
  kTty = 5,     // a terminal: becomes ckpt_restart's own
  kPipe = 6,    // a pipe to outside the computation: ckpt_restart's own
  kSocket = 7,
  // No family knows it (fanotify, userfaultfd, ...): never in an image, the capture fails.
  kOther = 8,
  kPipeInside = 9,  // an end of a pipe whose both ends are in the process
  kEventfd = 10,
  kTimerfd = 11,
  kSignalfd = 12,
  kEpoll = 13,
  kPtyMaster = 14,  // a pty master (/dev/ptmx, /dev/pts/ptmx)
  kPtySlave = 15,   // a pty slave (/dev/pts/N); outside if its master is in no image
  kInotify = 16,
  kFifo = 17,  // a named FIFO (a pipe with a path)
};

struct FdRecord {
  int32_t fd = 0;
  FdKind kind = FdKind::kOther;
  uint32_t open_flags = 0;  // O_* from /proc/self/fdinfo (no O_CREAT/O_TRUNC)
  uint32_t fd_flags = 0;    // FD_CLOEXEC
  int64_t pos = 0;
  int32_t shares_with = -1;  // earlier fd with the same open file description
  uint32_t mode = 0;         // st_mode
  uint64_t dev = 0, ino = 0;
  int64_t size = 0;        // st_size at checkpoint (for rollback)
  int32_t file_data = -1;  // FileData index: kUnlinked, or a kRegular file saved by
                           // content (job-private, or open read-write)
  std::string_view path;   // readlink of /proc/self/fd/N, " (deleted)" removed
  // Kind-specific state (see docs/image_format.md): a pipe's ino, end and
  // in-flight bytes; an eventfd's count; a timerfd's clock and times; a
  // signalfd's mask; an epoll's registrations; a pty's terminal state; an
  // inotify's watches; a FIFO's in-flight bytes.
  std::string_view extra;
  // The open file description across the computation: the process (real
  // pid when checkpointed) and fd of its topmost holder among the process's
  // ancestors in the computation, else this process and its first fd for it.
  // Records with equal owners are one description at restart.
  int32_t owner_pid = 0;
  int32_t owner_fd = -1;

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct FileDataHeader {
  uint32_t index = 0;  // referenced by FdRecord::file_data
  uint64_t size = 0;   // content bytes following (uncompressed)

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

enum class RegionKind : uint32_t {
  kAnon = 1,         // private anonymous
  kFilePrivate = 2,  // private file mapping (content saved, restored anonymous)
  kFileShared = 3,   // MAP_SHARED file mapping (content saved, file remapped)
  kAnonShared = 4,   // a shared memory object (a ShmRecord of the same dev/ino):
                     // MAP_SHARED|MAP_ANONYMOUS, memfd, POSIX shm, SysV shm,
                     // any deleted file mapped MAP_SHARED
  kHeap = 5,
  kStack = 6,
  kVdso = 7,
  kVvar = 8,
  kVvarVclock = 9,
  kVsyscall = 10,  // never restored (fixed by the kernel)
};

struct RegionRecord {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0;  // PROT_*
  RegionKind kind = RegionKind::kAnon;
  uint64_t offset = 0;  // file offset
  uint64_t dev = 0, ino = 0;
  // 0: no pages stored; kContentFull: MemChunks carry its pages (absent =
  // zero); kContentModified: a private file mapping stored by reference,
  // MemChunks carry the pages the process modified (absent = as in the
  // file, which must still have file_size and file_mtime_ns).
  uint32_t has_content = 0;
  uint64_t file_size = 0;
  uint64_t file_mtime_ns = 0;
  uint32_t huge = 0;  // 1 if backed by transparent huge pages when saved
  std::string_view path;

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// A shared memory object mapped by the process (regions of kind kAnonShared
// name it by dev/ino). Processes that share one object have equal dev/ino;
// the object's content is in the MemChunks of the regions with content of
// whichever image has them (one process saves it: the topmost one in the
// computation that maps it).
enum class ShmKind : uint32_t {
  kAnon = 1,     // MAP_SHARED|MAP_ANONYMOUS ("/dev/zero (deleted)")
  kMemfd = 2,    // memfd_create ("/memfd:NAME (deleted)"); path "memfd:NAME"
  kNamed = 3,    // a file on tmpfs that still has its path (/dev/shm/NAME)
  kDeleted = 4,  // a file unlinked while mapped (shm_unlink'ed /dev/shm/NAME)
  kSysV = 5,     // System V shared memory (shmget/shmat)
};

inline constexpr uint32_t kShmRemoved = 1;  // SysV: IPC_RMID done (SHM_DEST)

struct ShmRecord {
  uint64_t dev = 0, ino = 0;  // as in the RegionRecords (SysV: ino = shmid)
  ShmKind kind = ShmKind::kAnon;
  uint64_t size = 0;      // the object's size (st_size, SysV segment size)
  uint32_t mode = 0;      // permission bits (SysV: shm_perm.mode & 0777)
  int32_t key = 0;        // SysV key (0 = IPC_PRIVATE)
  int32_t shmid = -1;     // SysV identifier as the application knows it
  uint32_t flags = 0;     // kShmRemoved
  std::string_view path;  // kNamed/kDeleted: the file's path; kMemfd: "memfd:NAME"

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// A System V semaphore set or message queue the process used (through
// semget/semop/semctl or msgget/msgsnd/msgrcv/msgctl), captured while every
// process of the computation was stopped. Every process that used it saves
// it; a restart creates it once, from the first image that has it.
enum class SysvKind : uint32_t {
  kSemaphores = 1,
  kMessages = 2,
};

// A directory the job made (under $TMPDIR, /tmp, /var/tmp or /dev/shm, born
// after the job started) on the way to a file, socket or FIFO it holds:
// made again at restart, parents first, when it is gone.
struct JobDirRecord {
  uint32_t mode = 0;  // st_mode & 07777
  uint32_t uid = 0, gid = 0;
  std::string_view path;  // absolute

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct SysvRecord {
  SysvKind kind = SysvKind::kSemaphores;
  int32_t id = -1;      // semid/msqid as the application knows it
  int32_t key = 0;      // 0 = IPC_PRIVATE
  uint32_t mode = 0;    // sem_perm/msg_perm.mode & 0777
  uint32_t count = 0;   // kSemaphores: nsems; kMessages: messages queued
  uint64_t qbytes = 0;  // kMessages: msg_qbytes
  // kSemaphores: `count` u16 values (GETALL); kMessages: `count` messages
  // oldest first, each u32 length, i64 mtype, `length` bytes of mtext.
  std::string_view data;

  // Every field up to `data` (the capture appends data's length and bytes).
  void encode_head(ByteWriter& w) const;
  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

inline constexpr uint32_t kContentFull = 1;
inline constexpr uint32_t kContentModified = 2;

inline constexpr uint32_t kChunkRaw = 1;  // payload stored uncompressed

// A chunk: `page_count` pages of region `region` starting at `first_page`.
// `bitmap` has one bit per page (LSB first): set = the page's bytes are in
// the payload, clear = the page is all zero (or never touched). The payload
// is one zstd frame (with content checksum) holding the set pages in order,
// or, with kChunkRaw, those pages uncompressed.
struct ChunkHeader {
  uint32_t region = 0;
  uint32_t flags = 0;
  uint64_t first_page = 0;
  uint32_t page_count = 0;
  uint32_t stored_pages = 0;
  uint64_t bitmap[kChunkPages / 64] = {};
  uint64_t payload_size = 0;

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

struct EndRecord {
  uint64_t sections = 0;  // sections before End
  uint64_t chunks = 0;
  uint64_t memory_bytes = 0;  // bytes of all regions with content
  uint64_t stored_bytes = 0;  // bytes of pages stored (before compression)

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// Runtime build id compiled into every binary (from meson).
std::string_view build_id();

}  // namespace ckpt::image
