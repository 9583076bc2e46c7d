/*
 * A libcpg client of our own for the interop tests (built by the tests with
 * `cc cpgclient.c -lcpg`, Debian package libcpg-dev). It uses the stock libcpg of corosync
 * 3.1.7 against whichever daemon listens on the plain `cpg` socket name of its network
 * namespace.
 *
 * usage: cpgclient GROUP TAG SEND EXPECT_MEMBERS EXPECT_MSGS
 *   joins GROUP; waits until the group has EXPECT_MEMBERS members; multicasts SEND messages
 *   "TAG:<i>" (agreed); dispatches until EXPECT_MSGS messages were delivered, printing
 *     CONFCHG members=<n> joined=<n> left=<n>
 *     DELIVER <nodeid> <pid> <text>     (text: up to the first NUL, at most 80 bytes)
 *   then prints the group via the iteration API as
 *     ITER <group> <nodeid> <pid>
 *   and exits 0 after cpg_leave + cpg_finalize. Any failure prints "FAIL <what> <cs_error>"
 *   and exits 1.
 *
 * usage: cpgclient -i GROUP
 *   interactive: joins GROUP, prints "READY <nodeid> <pid>", then dispatches deliveries and
 *   configuration changes while reading commands on stdin, one a line:
 *     send TAG N   multicast "TAG:0" .. "TAG:<N-1>" (agreed), then print "SENT N"
 *     big N        multicast one message of N bytes, "big<N>" then zeros; "SENT big<N>"
 *     hash         print "HASH <deliveries> <fnv>"
 *     leave        cpg_leave (the group's confchg gives reason LEAVE)
 *     exit         _exit(0) without leaving or finalizing (a process exit: PROCDOWN)
 *   The hash is FNV-1a 64 over every delivery in order: sender nodeid, sender pid and length
 *   (each u32 little-endian), then the message bytes; printed as 16 hex digits. Our TS
 *   client helper (test/helpers/cpg-child.ts) computes the same. Configuration changes print
 *   the old counts line followed by the lists as node/pid:reason, sorted by node then pid:
 *     CONFCHG members=<n> joined=<n> left=<n> M=<list> L=<list> J=<list>
 *   End of stdin exits 0; a dispatch failure (the daemon gone) prints FAIL, finalizes (so that
 *   libqb may remove the dead daemon's files of this connection in /dev/shm) and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/uio.h>
#include <corosync/cpg.h>

static int members_now = 0, delivered = 0;
static uint64_t fnv = 14695981039346656037ULL;

static void fnv_bytes(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    fnv ^= b[i];
    fnv *= 1099511628211ULL;
  }
}

static void fnv_u32(uint32_t v) {
  unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };
  fnv_bytes(b, 4);
}

static void deliver_fn(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg, size_t len) {
  /* The text up to the first NUL, at most 80 bytes (as test/helpers/cpg-child.ts shows it). */
  printf("DELIVER %u %u %.*s\n", nodeid, pid, (int)strnlen(msg, len < 80 ? len : 80), (const char *)msg);
  fflush(stdout);
  fnv_u32(nodeid);
  fnv_u32(pid);
  fnv_u32((uint32_t)len);
  fnv_bytes(msg, len);
  delivered++;
}

static int addr_cmp(const void *a, const void *b) {
  const struct cpg_address *x = a, *y = b;
  if (x->nodeid != y->nodeid) return x->nodeid < y->nodeid ? -1 : 1;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void print_list(const char *tag, const struct cpg_address *l, size_t n) {
  struct cpg_address sorted[CPG_MEMBERS_MAX];
  if (n > CPG_MEMBERS_MAX) n = CPG_MEMBERS_MAX;
  memcpy(sorted, l, n * sizeof *l);
  qsort(sorted, n, sizeof *sorted, addr_cmp);
  printf(" %s=", tag);
  for (size_t i = 0; i < n; i++) printf("%s%u/%u:%u", i ? "," : "", sorted[i].nodeid, sorted[i].pid, sorted[i].reason);
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t mn,
                       const struct cpg_address *l, size_t ln, const struct cpg_address *j, size_t jn) {
  printf("CONFCHG members=%zu joined=%zu left=%zu", mn, jn, ln);
  print_list("M", m, mn);
  print_list("L", l, ln);
  print_list("J", j, jn);
  printf("\n");
  fflush(stdout);
  members_now = (int)mn;
}

static cpg_callbacks_t callbacks = { deliver_fn, confchg_fn };

static void fail(const char *what, cs_error_t e) {
  printf("FAIL %s %d\n", what, e);
  exit(1);
}

static void dispatch_until(cpg_handle_t h, int fd, int (*done)(int), int arg) {
  for (int spins = 0; !done(arg); spins++) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (spins > 600) fail("timeout", 0);
    if (poll(&p, 1, 100) > 0) {
      cs_error_t e = cpg_dispatch(h, CS_DISPATCH_ALL);
      if (e != CS_OK) fail("dispatch", e);
    }
  }
}

static int enough_members(int n) { return members_now >= n; }
static int enough_msgs(int n) { return delivered >= n; }

/*
 * Deliveries keep being dispatched while sending (CS_DISPATCH_ALL does not block). A failure
 * (the daemon gone) prints FAIL, finalizes — so that libqb may remove the dead daemon's files
 * of this connection in /dev/shm — and exits 1.
 */
static void dispatch_pending(cpg_handle_t h) {
  cs_error_t e = cpg_dispatch(h, CS_DISPATCH_ALL);
  if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
    printf("FAIL dispatch %d\n", e);
    fflush(stdout);
    cpg_finalize(h);
    exit(1);
  }
}

static void send_many(cpg_handle_t h, const char *tag, int count) {
  cs_error_t e;
  for (int i = 0; i < count; i++) {
    char text[64];
    struct iovec iov = { text, (size_t)snprintf(text, sizeof text, "%s:%d", tag, i) };
    while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN) {
      dispatch_pending(h);
      usleep(1000);
    }
    if (e != CS_OK) fail("mcast", e);
    dispatch_pending(h);
  }
}

static int interactive(const char *name) {
  struct cpg_name group;
  group.length = strlen(name);
  memcpy(group.value, name, group.length);
  cpg_handle_t h;
  cs_error_t e = cpg_initialize(&h, &callbacks);
  if (e != CS_OK) fail("initialize", e);
  int fd;
  cpg_fd_get(h, &fd);
  for (int i = 0; (e = cpg_join(h, &group)) == CS_ERR_TRY_AGAIN && i < 100; i++) usleep(100000);
  if (e != CS_OK) fail("join", e);
  unsigned int local;
  if ((e = cpg_local_get(h, &local)) != CS_OK) fail("local_get", e);
  printf("READY %u %d\n", local, (int)getpid());
  fflush(stdout);
  char line[256];
  size_t used = 0;
  for (;;) {
    struct pollfd p[2] = { { fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
    if (poll(p, 2, 1000) < 0) continue;
    if (p[0].revents) dispatch_pending(h);
    if (!p[1].revents) continue;
    ssize_t got = read(0, line + used, sizeof line - 1 - used);
    if (got <= 0) return 0;
    used += (size_t)got;
    line[used] = 0;
    char *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
      *nl = 0;
      char tag[64];
      int count;
      if (sscanf(line, "big %d", &count) == 1 && count > 16) {
        /* "big<size>" then zeros, as cpg-child.ts's mcastSize */
        char *big = calloc(1, (size_t)count);
        if (big == NULL) fail("calloc", 0);
        snprintf(big, 16, "big%d", count);
        struct iovec iov = { big, (size_t)count };
        while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN) {
          dispatch_pending(h);
          usleep(1000);
        }
        if (e != CS_OK) fail("mcast", e);
        free(big);
        printf("SENT big%d\n", count);
      } else if (sscanf(line, "send %63s %d", tag, &count) == 2) {
        send_many(h, tag, count);
        printf("SENT %d\n", count);
      } else if (strcmp(line, "hash") == 0) {
        printf("HASH %d %016llx\n", delivered, (unsigned long long)fnv);
      } else if (strcmp(line, "leave") == 0) {
        if ((e = cpg_leave(h, &group)) != CS_OK) fail("leave", e);
      } else if (strcmp(line, "exit") == 0) {
        fflush(stdout);
        _exit(0);
      } else {
        printf("UNKNOWN %s\n", line);
      }
      fflush(stdout);
      used -= (size_t)(nl + 1 - line);
      memmove(line, nl + 1, used + 1);
    }
    if (used == sizeof line - 1) used = 0;
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "-i") == 0) return interactive(argv[2]);
  if (argc != 6) {
    fprintf(stderr, "usage: %s GROUP TAG SEND EXPECT_MEMBERS EXPECT_MSGS\n", argv[0]);
    return 2;
  }
  struct cpg_name group;
  group.length = strlen(argv[1]);
  memcpy(group.value, argv[1], group.length);
  int send = atoi(argv[3]), want_members = atoi(argv[4]), want_msgs = atoi(argv[5]);
  cpg_handle_t h;
  cs_error_t e = cpg_initialize(&h, &callbacks);
  if (e != CS_OK) fail("initialize", e);
  int fd;
  cpg_fd_get(h, &fd);
  for (int i = 0; (e = cpg_join(h, &group)) == CS_ERR_TRY_AGAIN && i < 100; i++) usleep(100000);
  if (e != CS_OK) fail("join", e);
  dispatch_until(h, fd, enough_members, want_members);
  for (int i = 0; i < send; i++) {
    char text[64];
    struct iovec iov = { text, (size_t)snprintf(text, sizeof text, "%s:%d", argv[2], i) };
    while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN) usleep(1000);
    if (e != CS_OK) fail("mcast", e);
  }
  dispatch_until(h, fd, enough_msgs, want_msgs);
  cpg_iteration_handle_t it;
  struct cpg_iteration_description_t d;
  if ((e = cpg_iteration_initialize(h, CPG_ITERATION_ALL, NULL, &it)) != CS_OK) fail("iteration_initialize", e);
  while ((e = cpg_iteration_next(it, &d)) == CS_OK) printf("ITER %.*s %u %u\n", (int)d.group.length, d.group.value, d.nodeid, d.pid);
  if (e != CS_ERR_NO_SECTIONS) fail("iteration_next", e);
  cpg_iteration_finalize(it);
  unsigned int local;
  if ((e = cpg_local_get(h, &local)) != CS_OK) fail("local_get", e);
  printf("LOCAL %u\n", local);
  cpg_leave(h, &group);
  cpg_finalize(h);
  return 0;
}
