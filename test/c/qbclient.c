/*
 * A libqb 2.0.6 IPC client for the compatibility tests (built by the tests with
 * `cc qbclient.c -lqb`, Debian package libqb-dev). It talks to the test "echo" service:
 *   request id 0: echo — response {id 0, size 24 + n, error 1} followed by the n bytes that
 *                 followed the 16-byte request header;
 *   request id 1: u32 count @16 — response header only, then `count` events
 *                 {id 7, size 32, error 1, u32 seq @24}.
 *
 * usage: qbclient NAME REQUESTS EVENTS
 * Sends REQUESTS echo requests of varying sizes (so the rings wrap), checks every response,
 * then asks for EVENTS events and checks their order. Prints "ok requests=R events=E" and
 * exits 0; on a refused connection prints "connect failed: errno=N" and exits 3; any other
 * failure exits 1 with a message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbipcc.h>

#define MAX_MSG (1024 * 1024)

struct req_hdr { int32_t id __attribute__((aligned(8))); int32_t size __attribute__((aligned(8))); };

static unsigned char sendbuf[MAX_MSG], recvbuf[MAX_MSG];

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s NAME REQUESTS EVENTS\n", argv[0]);
    return 1;
  }
  const char *name = argv[1];
  long requests = atol(argv[2]), events = atol(argv[3]);
  qb_ipcc_connection_t *c = qb_ipcc_connect(name, MAX_MSG);
  if (c == NULL) {
    printf("connect failed: errno=%d\n", errno);
    return 3;
  }
  for (long i = 0; i < requests; i++) {
    size_t n = (size_t)((i * 7919) % 6000);
    struct req_hdr *h = (struct req_hdr *)sendbuf;
    memset(sendbuf, 0, 16);
    h->id = 0;
    h->size = (int32_t)(16 + n);
    for (size_t k = 0; k < n; k++) sendbuf[16 + k] = (unsigned char)(i + k);
    struct iovec iov = {sendbuf, 16 + n};
    ssize_t r = qb_ipcc_sendv_recv(c, &iov, 1, recvbuf, sizeof recvbuf, 5000);
    if (r < 0) {
      printf("request %ld failed: %zd\n", i, r);
      return 1;
    }
    struct qb_ipc_response_header *rh = (struct qb_ipc_response_header *)recvbuf;
    if (r != (ssize_t)(24 + n) || rh->size != (int32_t)(24 + n) || rh->error != 1 || memcmp(recvbuf + 24, sendbuf + 16, n) != 0) {
      printf("request %ld: bad response (got %zd bytes, size %d, error %d)\n", i, r, rh->size, rh->error);
      return 1;
    }
  }
  if (events > 0) {
    struct req_hdr *h = (struct req_hdr *)sendbuf;
    memset(sendbuf, 0, 24);
    h->id = 1;
    h->size = 24;
    uint32_t cnt = (uint32_t)events;
    memcpy(sendbuf + 16, &cnt, 4);
    struct iovec iov = {sendbuf, 24};
    ssize_t r = qb_ipcc_sendv_recv(c, &iov, 1, recvbuf, sizeof recvbuf, 5000);
    if (r != 24) {
      printf("event request failed: %zd\n", r);
      return 1;
    }
    for (long e = 0; e < events; e++) {
      ssize_t n = qb_ipcc_event_recv(c, recvbuf, sizeof recvbuf, 5000);
      if (n != 32) {
        printf("event %ld: recv returned %zd\n", e, n);
        return 1;
      }
      uint32_t seq;
      memcpy(&seq, recvbuf + 24, 4);
      if (seq != (uint32_t)e) {
        printf("event %ld: got seq %u\n", e, seq);
        return 1;
      }
    }
  }
  qb_ipcc_disconnect(c);
  printf("ok requests=%ld events=%ld\n", requests, events);
  return 0;
}
