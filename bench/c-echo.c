/*
 * The floor of the p99 suite: a UDP echo in C, woken by epoll as Unbound and edgedns are, reading
 * and writing in recvmmsg/sendmmsg batches as edgedns's addon does; it sets QR and sends the query
 * back. It does no DNS work at all, so its tail at 10,000 qps is what the machine alone adds: a
 * server's p99 is read against it. Built by bench/run.mjs with the system compiler; `c-echo PORT`
 * listens on 127.0.0.1.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define BATCH 64

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: c-echo PORT\n"); return 2; }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])), .sin_addr.s_addr = htonl(0x7f000001) };
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("c-echo: bind"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  static char buf[BATCH][4096];
  struct mmsghdr m[BATCH];
  struct iovec io[BATCH];
  struct sockaddr_in from[BATCH];
  for (;;) {
    struct epoll_event out[4];
    if (epoll_wait(ep, out, 4, -1) <= 0) continue;
    for (;;) {
      for (int i = 0; i < BATCH; i++) {
        io[i].iov_base = buf[i];
        io[i].iov_len = sizeof buf[i];
        memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
        m[i].msg_hdr.msg_iov = &io[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &from[i];
        m[i].msg_hdr.msg_namelen = sizeof from[i];
      }
      int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0) break;
      for (int i = 0; i < n; i++) {
        if (m[i].msg_len >= 3) buf[i][2] |= 0x80;
        io[i].iov_len = m[i].msg_len;
      }
      sendmmsg(fd, m, n, 0);
      if (n < BATCH) break;
    }
  }
}
