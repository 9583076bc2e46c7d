/*
 * cpgload: a libcpg load client for the side-by-side benchmark (bench/cpg.ts). The same
 * binary, built against Debian's libcpg (corosync 3.1.7, package libcpg-dev), drives a real
 * corosync and our daemon (which speaks libqb IPC), so both are measured through one client.
 *
 * usage: cpgload -g GROUP -i INDEX -m MEMBERS -s SIZE [-r RATE] [-S] [-w WARMUP_MS]
 *   Joins GROUP, waits until it has MEMBERS members, prints "READY", then waits on stdin for
 *   "GO <start_ns> <end_ns>" (CLOCK_MONOTONIC, which every network namespace shares). With -S
 *   it multicasts SIZE-byte agreed messages from start to end: RATE per second (paced), or as
 *   fast as the daemon takes them with RATE 0 (on CS_ERR_TRY_AGAIN it dispatches and waits
 *   for the IPC fd, as corosync's cpgbench does). Each message carries (INDEX, seq, send time).
 *   It counts deliveries in [start + WARMUP, end] for throughput, and records the latency
 *   send -> delivery of messages sent in that window, separately for its own messages and for
 *   other senders'. After `end` it dispatches until nothing arrived for 1 s (at most 20 s),
 *   then prints one JSON line and exits 0:
 *     {"delivered":N,"bytes":B,"window_s":W,"sent":S,"tryagain":T,
 *      "own":{"n":..,"p50":us,"p99":us,"p999":us,"max":us},"other":{...}}
 *   Failures print "FAIL <what> <cs_error>" and exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <corosync/cpg.h>

#define MAGIC 0x6c6f6164u /* "load" */

struct hdr {
  uint32_t magic;
  uint32_t index;
  uint64_t seq;
  uint64_t sent_ns;
};

struct samples {
  uint32_t *us;
  size_t n, cap;
};

static int members_now;
static uint32_t my_index;
static uint64_t window_start, window_end, warm_start;
static uint64_t delivered, delivered_bytes, last_delivery_ns;
static struct samples own, other;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, int e) {
  printf("FAIL %s %d\n", what, e);
  fflush(stdout);
  exit(1);
}

static void add_sample(struct samples *s, uint64_t ns) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 65536;
    s->us = realloc(s->us, s->cap * sizeof *s->us);
    if (!s->us) fail("realloc", 0);
  }
  uint64_t us = ns / 1000;
  s->us[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void deliver_fn(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg, size_t len) {
  uint64_t t = now_ns();
  last_delivery_ns = t;
  if (t >= warm_start && t <= window_end) {
    delivered++;
    delivered_bytes += len;
  }
  if (len < sizeof(struct hdr)) return;
  struct hdr hd;
  memcpy(&hd, msg, sizeof hd);
  if (hd.magic != MAGIC || hd.sent_ns < warm_start || hd.sent_ns > window_end) return;
  add_sample(hd.index == my_index ? &own : &other, t - hd.sent_ns);
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t mn,
                       const struct cpg_address *l, size_t ln, const struct cpg_address *j, size_t jn) {
  members_now = (int)mn;
}

static cpg_callbacks_t callbacks = { deliver_fn, confchg_fn };

/* Dispatch what is queued, at most `max` messages (a flood must not starve the sender). */
static void dispatch_some(cpg_handle_t h, int max) {
  for (int i = 0; i < max; i++) {
    cs_error_t e = cpg_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING);
    if (e == CS_ERR_TRY_AGAIN) return;
    if (e != CS_OK) fail("dispatch", e);
  }
}

/* Wait up to `ns` for the IPC fd, then dispatch. */
static void wait_dispatch(cpg_handle_t h, int fd, uint64_t ns) {
  struct pollfd p = { fd, POLLIN, 0 };
  struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
  if (ppoll(&p, 1, &ts, NULL) > 0) dispatch_some(h, 1024);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void print_samples(const char *name, struct samples *s) {
  if (s->n == 0) {
    printf("\"%s\":{\"n\":0}", name);
    return;
  }
  qsort(s->us, s->n, sizeof *s->us, cmp_u32);
#define PCT(p) s->us[(size_t)((double)(s->n - 1) * (p))]
  printf("\"%s\":{\"n\":%zu,\"p50\":%u,\"p99\":%u,\"p999\":%u,\"max\":%u}", name, s->n, PCT(0.5), PCT(0.99), PCT(0.999),
         s->us[s->n - 1]);
#undef PCT
}

int main(int argc, char **argv) {
  const char *group_name = "cpgload";
  int want_members = 1, send = 0, opt;
  size_t size = 64;
  double rate = 0, warmup_ms = 1000;
  while ((opt = getopt(argc, argv, "g:i:m:s:r:Sw:")) != -1) {
    switch (opt) {
      case 'g': group_name = optarg; break;
      case 'i': my_index = (uint32_t)atoi(optarg); break;
      case 'm': want_members = atoi(optarg); break;
      case 's': size = (size_t)atol(optarg); break;
      case 'r': rate = atof(optarg); break;
      case 'S': send = 1; break;
      case 'w': warmup_ms = atof(optarg); break;
      default:
        fprintf(stderr, "usage: %s -g GROUP -i INDEX -m MEMBERS -s SIZE [-r RATE] [-S] [-w WARMUP_MS]\n", argv[0]);
        return 2;
    }
  }
  if (size < sizeof(struct hdr)) size = sizeof(struct hdr);
  window_start = window_end = warm_start = UINT64_MAX;

  struct cpg_name group;
  group.length = strlen(group_name);
  memcpy(group.value, group_name, group.length);
  cpg_handle_t h;
  cs_error_t e = cpg_initialize(&h, &callbacks);
  if (e != CS_OK) fail("initialize", e);
  int fd;
  cpg_fd_get(h, &fd);
  for (int i = 0; (e = cpg_join(h, &group)) == CS_ERR_TRY_AGAIN && i < 200; i++) usleep(50000);
  if (e != CS_OK) fail("join", e);
  for (uint64_t t0 = now_ns(); members_now < want_members;) {
    if (now_ns() - t0 > 60000000000ull) fail("members-timeout", members_now);
    wait_dispatch(h, fd, 50000000);
  }
  printf("READY\n");
  fflush(stdout);

  /* GO line on stdin; keep dispatching (membership events) while waiting for it. */
  char line[128];
  size_t got = 0;
  for (;;) {
    struct pollfd p[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
    if (poll(p, 2, 1000) < 0 && errno != EINTR) fail("poll", errno);
    if (p[1].revents) dispatch_some(h, 1024);
    if (p[0].revents) {
      ssize_t r = read(0, line + got, sizeof line - 1 - got);
      if (r <= 0) fail("stdin", (int)r);
      got += (size_t)r;
      line[got] = 0;
      if (strchr(line, '\n')) break;
    }
  }
  if (sscanf(line, "GO %" SCNu64 " %" SCNu64, &window_start, &window_end) != 2) fail("go-line", 0);
  warm_start = window_start + (uint64_t)(warmup_ms * 1e6);

  char *buf = calloc(1, size);
  struct hdr *hd = (struct hdr *)buf;
  hd->magic = MAGIC;
  hd->index = my_index;
  struct iovec iov = { buf, size };
  uint64_t sent = 0, tryagain = 0;
  while (now_ns() < window_start) wait_dispatch(h, fd, 1000000);
  if (send && rate > 0) {
    uint64_t interval = (uint64_t)(1e9 / rate), next = window_start;
    for (uint64_t t = now_ns(); t < window_end; t = now_ns()) {
      if (t < next) {
        wait_dispatch(h, fd, next - t);
        continue;
      }
      hd->seq = sent;
      hd->sent_ns = now_ns();
      e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);
      if (e == CS_ERR_TRY_AGAIN) {
        tryagain++;
        wait_dispatch(h, fd, 100000);
        continue;
      }
      if (e != CS_OK) fail("mcast", e);
      sent++;
      next += interval;
      dispatch_some(h, 1024);
    }
  } else if (send) {
    while (now_ns() < window_end) {
      hd->seq = sent;
      hd->sent_ns = now_ns();
      e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);
      if (e == CS_ERR_TRY_AGAIN) {
        tryagain++;
        wait_dispatch(h, fd, 1000000);
        continue;
      }
      if (e != CS_OK) fail("mcast", e);
      sent++;
      if ((sent & 15) == 0) dispatch_some(h, 256);
    }
  } else {
    while (now_ns() < window_end) wait_dispatch(h, fd, 10000000);
  }
  /* Drain: until quiet for 1 s, at most 20 s after the window. */
  last_delivery_ns = now_ns();
  for (uint64_t t = now_ns(); t - last_delivery_ns < 1000000000ull && t - window_end < 20000000000ull; t = now_ns())
    wait_dispatch(h, fd, 50000000);

  double window_s = (double)(window_end - warm_start) / 1e9;
  printf("{\"delivered\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"window_s\":%.3f,\"sent\":%" PRIu64 ",\"tryagain\":%" PRIu64 ",",
         delivered, delivered_bytes, window_s, sent, tryagain);
  print_samples("own", &own);
  printf(",");
  print_samples("other", &other);
  printf("}\n");
  fflush(stdout);
  cpg_leave(h, &group);
  cpg_finalize(h);
  return 0;
}
