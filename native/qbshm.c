/*
 * corosync_native: the small amount of native code the libqb IPC transport needs and Node
 * lacks (see docs/libqb-ipc-spec.md §1.5 and the project's decision 4):
 *
 *   mapFile(path, length[, create])   mmap(MAP_SHARED) a file into an external ArrayBuffer
 *   unmap(ab)                         detach the ArrayBuffer and munmap it (deferred while a
 *                                     semWaitAsync on it is in flight); GC does the same
 *   semInit(ab, off, pshared, value)  glibc sem_init on a sem_t inside a mapping
 *   semPost(ab, off) -> boolean       post, safe on memory a hostile peer may scribble on
 *   semTryWait(ab, off) -> boolean    non-blocking wait, likewise safe
 *   semGetValue(ab, off) -> number    the current count, likewise safe
 *   semWaitAsync(ab, off, ms) -> Promise<boolean>
 *                                     sem_clockwait on a libuv pool thread (client side only)
 *   getPeerCred(fd) -> {pid,uid,gid}  SO_PEERCRED of a connected unix socket
 *   poisoned(ab) -> boolean           a SIGBUS on the mapping was absorbed (file truncated)
 *
 * Why post/trywait/getvalue are not glibc's: a shared ring header is writable by the peer.
 * glibc's sem_post derives the futex operation code from the `private` field stored inside
 * the sem_t, so garbage there can turn a wake into a FUTEX_WAIT (the daemon blocks forever)
 * or an unknown operation (glibc aborts the process). The functions below speak glibc's
 * layout for 64-bit-atomic targets (x86-64, aarch64: a u64 whose low 32 bits are the value
 * and high 32 bits the waiter count, then `int private`), but always issue a fixed, shared
 * FUTEX_WAKE and bound every compare-and-swap loop. They interoperate with glibc's
 * sem_wait/sem_timedwait/sem_post in the peer. semWaitAsync uses glibc's own sem_clockwait,
 * because only a client calls it, on memory its trusted server created.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <node_api.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(sem_t) == 32, "glibc sem_t on a 64-bit target is expected");
_Static_assert(sizeof(void *) == 8, "64-bit target expected");

#define SEM_VALUE_MASK_ ((uint64_t)0xffffffffu)
#define SEM_NWAITERS_SHIFT_ 32
#define SEM_VALUE_MAX_ ((uint64_t)INT_MAX)
#define CAS_TRIES 1000

/* ------------------------------------------------------------------------------------------
 * Mappings. Each external ArrayBuffer made by mapFile owns one `mapping`. The finalizer and
 * unmap() both consult it, so the region is unmapped exactly once; waits in flight hold it.
 */
typedef struct mapping {
  void *addr;
  size_t len;
  int waiters;  /* semWaitAsync calls in flight on this mapping */
  int unmapped; /* munmap done (or scheduled for when waiters reaches 0) */
  int finalized;
  volatile sig_atomic_t poisoned; /* a SIGBUS hit it: the file was truncated under us */
  struct mapping *prev, *next;
} mapping;

static mapping *g_maps = NULL; /* live mappings (touched on the JS thread only) */

static void map_link(mapping *m) {
  m->prev = NULL;
  m->next = g_maps;
  if (g_maps) g_maps->prev = m;
  g_maps = m;
}

static void map_unlink(mapping *m) {
  if (m->prev) m->prev->next = m->next;
  else if (g_maps == m) g_maps = m->next;
  if (m->next) m->next->prev = m->prev;
  m->prev = m->next = NULL;
}

static mapping *map_find(void *addr) {
  for (mapping *m = g_maps; m; m = m->next)
    if (m->addr == addr && !m->unmapped) return m;
  return NULL;
}

/* ------------------------------------------------------------------------------------------
 * SIGBUS guard. A peer owns its ring files and can ftruncate them; touching a mapped page
 * past the new end of file raises SIGBUS, which would kill the daemon. The handler below
 * replaces the faulting page of one of our mappings with a private zero page (the access then
 * completes and reads zeros, which the ring checks reject) and marks the mapping poisoned so
 * the owner can close the connection. Faults outside our mappings go to the previous handler
 * (or the default action). Installed once, at module load.
 */
static struct sigaction g_old_bus;
static long g_page_size = 4096;

static void bus_handler(int sig, siginfo_t *si, void *uctx) {
  char *a = (char *)si->si_addr;
  for (mapping *m = g_maps; m; m = m->next) {
    if (m->addr && a >= (char *)m->addr && a < (char *)m->addr + m->len) {
      void *page = (void *)((uintptr_t)a & ~((uintptr_t)g_page_size - 1));
      if (mmap(page, (size_t)g_page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
        m->poisoned = 1;
        return;
      }
    }
  }
  if ((g_old_bus.sa_flags & SA_SIGINFO) && g_old_bus.sa_sigaction) {
    g_old_bus.sa_sigaction(sig, si, uctx);
    return;
  }
  if (!(g_old_bus.sa_flags & SA_SIGINFO) && g_old_bus.sa_handler != SIG_DFL && g_old_bus.sa_handler != SIG_IGN) {
    g_old_bus.sa_handler(sig);
    return;
  }
  signal(SIGBUS, SIG_DFL); /* returning re-executes the access: default action */
}

static void install_bus_guard(void) {
  static int installed = 0;
  if (installed) return;
  installed = 1;
  g_page_size = sysconf(_SC_PAGESIZE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = bus_handler;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &g_old_bus);
}

/* munmap now if nobody waits; free the record once the finalizer has also run. */
static void map_release(mapping *m) {
  if (m->unmapped && m->waiters == 0 && m->addr) {
    munmap(m->addr, m->len);
    m->addr = NULL;
  }
  if (m->finalized && m->addr == NULL) free(m);
}

static void map_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping *m = (mapping *)hint;
  if (!m->unmapped) {
    m->unmapped = 1;
    map_unlink(m);
  }
  m->finalized = 1;
  map_release(m);
}

/* ------------------------------------------------------------------------------------------
 * Helpers for argument checking and errors. Every error thrown carries a `code`: the errno
 * name for system errors ("ENOENT"...) or ERR_INVALID_ARG for misuse.
 */
static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = "EIO";
  switch (err) {
    case ENOENT: code = "ENOENT"; break;
    case EEXIST: code = "EEXIST"; break;
    case EACCES: code = "EACCES"; break;
    case EPERM: code = "EPERM"; break;
    case ENOSPC: code = "ENOSPC"; break;
    case ENOMEM: code = "ENOMEM"; break;
    case EINVAL: code = "EINVAL"; break;
    case EBADF: code = "EBADF"; break;
    case ENOTSOCK: code = "ENOTSOCK"; break;
    case ENOTCONN: code = "ENOTCONN"; break;
    case EMFILE: code = "EMFILE"; break;
    case ENFILE: code = "ENFILE"; break;
    case ENXIO: code = "ENXIO"; break;
    case EOVERFLOW: code = "EOVERFLOW"; break;
    default: break;
  }
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value throw_arg(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG", msg);
  return NULL;
}

/* Resolves (ab, offset) to a sem_t pointer inside the buffer, checking bounds and the
 * 8-byte alignment glibc's 64-bit atomics need. Returns NULL after throwing. */
static sem_t *sem_at(napi_env env, napi_value abv, napi_value offv, void **base_out) {
  bool is_ab = false;
  if (napi_is_arraybuffer(env, abv, &is_ab) != napi_ok || !is_ab) {
    throw_arg(env, "expected an ArrayBuffer");
    return NULL;
  }
  void *data = NULL;
  size_t len = 0;
  napi_get_arraybuffer_info(env, abv, &data, &len);
  int64_t off = -1;
  if (napi_get_value_int64(env, offv, &off) != napi_ok) {
    throw_arg(env, "offset must be a number");
    return NULL;
  }
  if (data == NULL || off < 0 || (uint64_t)off + sizeof(sem_t) > len) {
    throw_arg(env, "semaphore offset out of range (or the mapping is gone)");
    return NULL;
  }
  if (((uintptr_t)data + (uintptr_t)off) % 8 != 0) {
    throw_arg(env, "semaphore offset not 8-byte aligned");
    return NULL;
  }
  if (base_out) *base_out = data;
  return (sem_t *)((char *)data + off);
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return (int)argc;
}

static napi_value make_bool(napi_env env, int v) {
  napi_value r;
  napi_get_boolean(env, v != 0, &r);
  return r;
}

/* ------------------------------------------------------------------------------------------
 * mapFile(path: string, length: number, create?: {mode, uid, gid}) -> ArrayBuffer
 *
 * Without `create`: opens an existing file read-write and maps `length` bytes; the file must
 * be at least that long (a shorter file would SIGBUS on access), else ENXIO.
 * With `create`: O_CREAT|O_EXCL with `mode` (umask overridden by fchmod), sized with
 * ftruncate + posix_fallocate (so tmpfs pages are reserved now and a full /dev/shm fails
 * here, not as a SIGBUS later), then fchown to uid/gid when uid >= 0. The file is zero-filled.
 * The descriptor is closed before returning; the mapping keeps the file alive.
 */
static int get_named_int(napi_env env, napi_value obj, const char *name, int64_t dflt, int64_t *out) {
  bool has = false;
  *out = dflt;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_get_named_property(env, obj, name, &v);
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  if (napi_get_value_int64(env, v, out) != napi_ok) return -1;
  return 0;
}

static napi_value MapFile(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  char path[4096];
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok)
    return throw_arg(env, "path must be a string");
  if (plen == 0 || plen >= sizeof path - 1) return throw_arg(env, "path empty or too long");
  int64_t length = 0;
  if (napi_get_value_int64(env, argv[1], &length) != napi_ok || length <= 0 ||
      length > ((int64_t)1 << 32))
    return throw_arg(env, "length must be a positive number up to 4 GiB");

  napi_valuetype ct;
  napi_typeof(env, argv[2], &ct);
  int create = (ct == napi_object);
  int64_t mode = 0600, uid = -1, gid = -1;
  if (create) {
    if (get_named_int(env, argv[2], "mode", 0600, &mode) || get_named_int(env, argv[2], "uid", -1, &uid) ||
        get_named_int(env, argv[2], "gid", -1, &gid))
      return throw_arg(env, "create.mode/uid/gid must be numbers");
  }

  int fd;
  if (create) {
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)(mode & 07777));
    if (fd < 0) return throw_errno(env, "open (create)", errno);
    int err = 0;
    if (fchmod(fd, (mode_t)(mode & 07777)) != 0) err = errno;
    if (!err && ftruncate(fd, (off_t)length) != 0) err = errno;
    if (!err) {
      int rc;
      do rc = posix_fallocate(fd, 0, (off_t)length); while (rc == EINTR);
      if (rc != 0 && rc != EOPNOTSUPP) err = rc;
    }
    if (!err && uid >= 0 && fchown(fd, (uid_t)uid, gid >= 0 ? (gid_t)gid : (gid_t)-1) != 0) err = errno;
    if (err) {
      close(fd);
      unlink(path);
      return throw_errno(env, "create shared file", err);
    }
  } else {
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return throw_errno(env, "open", errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int e = errno;
      close(fd);
      return throw_errno(env, "fstat", e);
    }
    if (!S_ISREG(st.st_mode) || st.st_size < length) {
      close(fd);
      return throw_errno(env, "file is not a regular file of the expected size", ENXIO);
    }
  }

  void *addr = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int merr = errno;
  close(fd);
  if (addr == MAP_FAILED) {
    if (create) unlink(path);
    return throw_errno(env, "mmap", merr);
  }

  mapping *m = calloc(1, sizeof *m);
  if (!m) {
    munmap(addr, (size_t)length);
    return throw_errno(env, "calloc", ENOMEM);
  }
  m->addr = addr;
  m->len = (size_t)length;
  map_link(m);
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, map_finalize, m, &ab) != napi_ok) {
    map_unlink(m);
    munmap(addr, (size_t)length);
    free(m);
    napi_throw_error(env, "ERR_NAPI", "napi_create_external_arraybuffer failed");
    return NULL;
  }
  return ab;
}

/* unmap(ab): detach (views over it become empty, so a late access reads nothing rather than
 * faulting) and munmap now, or when the last semWaitAsync on it returns. Idempotent; a
 * buffer that mapFile did not make is only detached. */
static napi_value Unmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  bool is_ab = false;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab) return throw_arg(env, "expected an ArrayBuffer");
  void *data = NULL;
  size_t len = 0;
  napi_get_arraybuffer_info(env, argv[0], &data, &len);
  if (data == NULL) return make_bool(env, 0);
  mapping *m = map_find(data);
  bool detached = false;
  napi_is_detached_arraybuffer(env, argv[0], &detached);
  if (!detached) napi_detach_arraybuffer(env, argv[0]);
  if (!m) return make_bool(env, 0);
  m->unmapped = 1;
  map_unlink(m);
  map_release(m);
  return make_bool(env, 1);
}

/* poisoned(ab) -> boolean: true once a SIGBUS on this mapping was absorbed (see the guard). */
static napi_value Poisoned(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  bool is_ab = false;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab) return throw_arg(env, "expected an ArrayBuffer");
  void *data = NULL;
  size_t len = 0;
  napi_get_arraybuffer_info(env, argv[0], &data, &len);
  mapping *m = data ? map_find(data) : NULL;
  return make_bool(env, m != NULL && m->poisoned);
}

/* ------------------------------------------------------------------------------------------
 * Semaphores.
 */
static napi_value SemInit(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  get_args(env, info, 4, argv);
  sem_t *s = sem_at(env, argv[0], argv[1], NULL);
  if (!s) return NULL;
  int32_t pshared = 1;
  uint32_t value = 0;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t != napi_undefined && napi_get_value_int32(env, argv[2], &pshared) != napi_ok)
    return throw_arg(env, "pshared must be a number");
  napi_typeof(env, argv[3], &t);
  if (t != napi_undefined && napi_get_value_uint32(env, argv[3], &value) != napi_ok)
    return throw_arg(env, "value must be a number");
  if (value > (uint32_t)INT_MAX) return throw_arg(env, "value too large");
  if (sem_init(s, pshared ? 1 : 0, value) != 0) return throw_errno(env, "sem_init", errno);
  return NULL;
}

static uint64_t *sem_data(sem_t *s) { return (uint64_t *)(void *)s; }

/* Adds one to the value unless it is at SEM_VALUE_MAX; wakes one waiter with a shared
 * FUTEX_WAKE when the waiter count is non-zero. Returns 1 posted, 0 overflow/contention. */
static int safe_post(sem_t *s) {
  uint64_t *d = sem_data(s);
  uint64_t v = __atomic_load_n(d, __ATOMIC_RELAXED);
  for (int i = 0; i < CAS_TRIES; i++) {
    if ((v & SEM_VALUE_MASK_) >= SEM_VALUE_MAX_) return 0;
    if (__atomic_compare_exchange_n(d, &v, v + 1, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
      if ((v >> SEM_NWAITERS_SHIFT_) > 0)
        syscall(SYS_futex, (uint32_t *)d, FUTEX_WAKE, 1, NULL, NULL, 0);
      return 1;
    }
  }
  return 0;
}

/* Takes one from the value if it is positive. Returns 1 taken, 0 when zero (or contention). */
static int safe_trywait(sem_t *s) {
  uint64_t *d = sem_data(s);
  uint64_t v = __atomic_load_n(d, __ATOMIC_RELAXED);
  for (int i = 0; i < CAS_TRIES; i++) {
    if ((v & SEM_VALUE_MASK_) == 0) return 0;
    if (__atomic_compare_exchange_n(d, &v, v - 1, 1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return 1;
  }
  return 0;
}

static napi_value SemPost(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  sem_t *s = sem_at(env, argv[0], argv[1], NULL);
  if (!s) return NULL;
  return make_bool(env, safe_post(s));
}

static napi_value SemTryWait(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  sem_t *s = sem_at(env, argv[0], argv[1], NULL);
  if (!s) return NULL;
  return make_bool(env, safe_trywait(s));
}

static napi_value SemGetValue(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  get_args(env, info, 2, argv);
  sem_t *s = sem_at(env, argv[0], argv[1], NULL);
  if (!s) return NULL;
  uint64_t v = __atomic_load_n(sem_data(s), __ATOMIC_ACQUIRE) & SEM_VALUE_MASK_;
  napi_value r;
  napi_create_uint32(env, (uint32_t)(v > SEM_VALUE_MAX_ ? SEM_VALUE_MAX_ : v), &r);
  return r;
}

/* semWaitAsync: the wait runs on a libuv pool thread, occupying it for up to timeoutMs. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref abref;
  mapping *map; /* NULL when the buffer is not one of ours (then abref keeps it alive) */
  sem_t *sem;
  int32_t timeout_ms;
  int result; /* 1 taken, 0 timed out, -errno */
} wait_req;

static void wait_execute(napi_env env, void *data) {
  (void)env;
  wait_req *w = (wait_req *)data;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += w->timeout_ms / 1000;
  ts.tv_nsec += (long)(w->timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec += 1;
    ts.tv_nsec -= 1000000000L;
  }
  for (;;) {
    if (sem_clockwait(w->sem, CLOCK_MONOTONIC, &ts) == 0) {
      w->result = 1;
      return;
    }
    if (errno == EINTR) continue;
    w->result = errno == ETIMEDOUT ? 0 : -errno;
    return;
  }
}

static void wait_complete(napi_env env, napi_status status, void *data) {
  wait_req *w = (wait_req *)data;
  napi_value v;
  if (status == napi_ok && w->result >= 0) {
    napi_get_boolean(env, w->result == 1, &v);
    napi_resolve_deferred(env, w->deferred, v);
  } else {
    napi_value msg, code;
    int e = w->result < 0 ? -w->result : ECANCELED;
    napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, "ESEMWAIT", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &v);
    napi_reject_deferred(env, w->deferred, v);
  }
  if (w->map) {
    w->map->waiters--;
    map_release(w->map);
  }
  napi_delete_reference(env, w->abref);
  napi_delete_async_work(env, w->work);
  free(w);
}

static napi_value SemWaitAsync(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  get_args(env, info, 3, argv);
  void *base = NULL;
  sem_t *s = sem_at(env, argv[0], argv[1], &base);
  if (!s) return NULL;
  int32_t timeout = 0;
  if (napi_get_value_int32(env, argv[2], &timeout) != napi_ok || timeout < 0 || timeout > 60000)
    return throw_arg(env, "timeoutMs must be 0..60000");
  wait_req *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "calloc", ENOMEM);
  w->sem = s;
  w->timeout_ms = timeout;
  w->map = map_find(base);
  napi_value promise, name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_reference(env, argv[0], 1, &w->abref);
  napi_create_string_utf8(env, "corosync_native.semWaitAsync", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, wait_execute, wait_complete, w, &w->work) != napi_ok ||
      napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_reference(env, w->abref);
    free(w);
    napi_throw_error(env, "ERR_NAPI", "could not queue the wait");
    return NULL;
  }
  if (w->map) w->map->waiters++;
  return promise;
}

/* ------------------------------------------------------------------------------------------
 * getPeerCred(fd) -> {pid, uid, gid}
 */
static napi_value GetPeerCred(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  get_args(env, info, 1, argv);
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_arg(env, "fd must be a non-negative integer");
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, cr.pid, &v);
  napi_set_named_property(env, obj, "pid", v);
  napi_create_uint32(env, cr.uid, &v);
  napi_set_named_property(env, obj, "uid", v);
  napi_create_uint32(env, cr.gid, &v);
  napi_set_named_property(env, obj, "gid", v);
  return obj;
}

/* sizeof(sem_t) and the page size, for the TypeScript side's layout checks. */
static napi_value Constants(napi_env env) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_uint32(env, (uint32_t)sizeof(sem_t), &v);
  napi_set_named_property(env, obj, "semSize", v);
  napi_create_uint32(env, (uint32_t)sysconf(_SC_PAGESIZE), &v);
  napi_set_named_property(env, obj, "pageSize", v);
  return obj;
}

static napi_value Init(napi_env env, napi_value exports) {
  install_bus_guard();
  napi_property_descriptor props[] = {
      {"mapFile", NULL, MapFile, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unmap", NULL, Unmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"semInit", NULL, SemInit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"semPost", NULL, SemPost, NULL, NULL, NULL, napi_enumerable, NULL},
      {"semTryWait", NULL, SemTryWait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"semGetValue", NULL, SemGetValue, NULL, NULL, NULL, napi_enumerable, NULL},
      {"semWaitAsync", NULL, SemWaitAsync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getPeerCred", NULL, GetPeerCred, NULL, NULL, NULL, napi_enumerable, NULL},
      {"poisoned", NULL, Poisoned, NULL, NULL, NULL, napi_enumerable, NULL},
      {"constants", NULL, NULL, NULL, NULL, Constants(env), napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
