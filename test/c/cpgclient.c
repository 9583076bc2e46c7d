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
 *     DELIVER <nodeid> <pid> <text>
 *   then prints the group via the iteration API as
 *     ITER <group> <nodeid> <pid>
 *   and exits 0 after cpg_leave + cpg_finalize. Any failure prints "FAIL <what> <cs_error>"
 *   and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/uio.h>
#include <corosync/cpg.h>

static int members_now = 0, delivered = 0;

static void deliver_fn(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg, size_t len) {
  printf("DELIVER %u %u %.*s\n", nodeid, pid, (int)len, (const char *)msg);
  fflush(stdout);
  delivered++;
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t mn,
                       const struct cpg_address *l, size_t ln, const struct cpg_address *j, size_t jn) {
  printf("CONFCHG members=%zu joined=%zu left=%zu\n", mn, jn, ln);
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

int main(int argc, char **argv) {
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
