/*
 * Batched UDP for the DNS listeners: recvmmsg/sendmmsg on a non-blocking socket that libuv
 * polls, IP_PKTINFO/IPV6_RECVPKTINFO so a wildcard socket answers from the address a query came
 * to, SO_REUSEPORT on request. One JS call per received batch; replies queued during that call
 * leave in one sendmmsg when it returns.
 *
 * The same socket serves the upstream pool once `connect`ed: the kernel then drops datagrams from
 * anyone but the upstream and reports its ICMP errors, which reach JS as a batch of -errno.
 *
 * JS sees two shared buffers per socket: `rx` (BATCH slots of SLOT bytes, the datagrams) and
 * `meta` (BATCH records of META bytes):
 *   0  u16 length        2  u8 family (4|6)   3  u8 flags (1: truncated)
 *   4  u16 source port   8  source address (16 bytes; IPv4 in the first 4)
 *   24 destination address (16 bytes)         40 u32 interface index
 * All multi-byte fields are little-endian (x86_64 and arm64 hosts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <arpa/inet.h>
#include <node_api.h>
#include <uv.h>

#define BATCH 64
#define SLOT 65536 /* a whole datagram, as node:dgram gives; pages are touched only as far as data goes */
#define META 48
#define CTL 64
#define MAX_BATCHES_PER_WAKE 16 /* then let the loop run other work */

typedef struct {
  int fd;
  int family;
  int closed;
  uv_poll_t poll;
  napi_env env;
  napi_ref on_batch;
  napi_async_context async;
  uint8_t *rx;
  uint8_t *meta;
  uint8_t *tx;
  int nsend;
  int connected;
  size_t slot; /* bytes per datagram slot: SLOT for listeners, less for upstream sockets */
  int lent; /* rx and meta are the caller's ArrayBuffers (held by rx_ref and meta_ref), not ours */
  napi_ref rx_ref, meta_ref;
  struct mmsghdr rmsgs[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage rname[BATCH];
  char rctl[BATCH][CTL];
  struct mmsghdr smsgs[BATCH];
  struct iovec siov[BATCH];
  struct sockaddr_storage sname[BATCH];
  char sctl[BATCH][CTL];
  /* counters: batches, datagrams, sendmmsg calls, datagrams sent, send errors, truncated */
  double counts[6];
} sock_t;

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "UDP_BATCH", #call " failed"); return NULL; } } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err, const char *address, int port) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s %s:%d", what, strerror(err), address, port);
  napi_value m, e, c;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  const char *code = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "EIO";
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_set_named_property(env, e, "code", c);
  napi_throw(env, e);
  return NULL;
}

static void fill_meta(sock_t *s, int i) {
  struct mmsghdr *m = &s->rmsgs[i];
  uint8_t *r = s->meta + i * META;
  memset(r, 0, META);
  uint32_t len = m->msg_len > 0xffff ? 0xffff : m->msg_len;
  r[0] = len & 0xff;
  r[1] = len >> 8;
  r[3] = (m->msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
  if (r[3]) s->counts[5]++;
  struct sockaddr_storage *ss = &s->rname[i];
  if (ss->ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    r[2] = 4;
    uint16_t port = ntohs(a->sin_port);
    r[4] = port & 0xff;
    r[5] = port >> 8;
    memcpy(r + 8, &a->sin_addr, 4);
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    r[2] = 6;
    uint16_t port = ntohs(a->sin6_port);
    r[4] = port & 0xff;
    r[5] = port >> 8;
    memcpy(r + 8, &a->sin6_addr, 16);
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr); c != NULL; c = CMSG_NXTHDR(&m->msg_hdr, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo *p = (struct in_pktinfo *)CMSG_DATA(c);
      memcpy(r + 24, &p->ipi_addr, 4);
      memcpy(r + 40, &p->ipi_ifindex, 4);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo *p = (struct in6_pktinfo *)CMSG_DATA(c);
      memcpy(r + 24, &p->ipi6_addr, 16);
      memcpy(r + 40, &p->ipi6_ifindex, 4);
    }
  }
}

/* Address, port and the reply's source address (from a meta record) into one send slot. */
static void prepare_send(sock_t *s, struct msghdr *h, struct sockaddr_storage *name, char *ctl, const uint8_t *r) {
  memset(name, 0, sizeof *name);
  memset(ctl, 0, CTL);
  uint16_t port = (uint16_t)(r[4] | (r[5] << 8));
  h->msg_name = name;
  h->msg_control = ctl;
  if (r[2] == 4 && s->family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)name;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    memcpy(&a->sin_addr, r + 8, 4);
    h->msg_namelen = sizeof *a;
    h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
    struct cmsghdr *c = CMSG_FIRSTHDR(h);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo *p = (struct in_pktinfo *)CMSG_DATA(c);
    memcpy(&p->ipi_spec_dst, r + 24, 4); /* the source address of the reply: where the query came to */
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)name;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    memcpy(&a->sin6_addr, r + 8, 16);
    uint32_t ifindex;
    memcpy(&ifindex, r + 40, 4);
    if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) a->sin6_scope_id = ifindex;
    h->msg_namelen = sizeof *a;
    h->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
    struct cmsghdr *c = CMSG_FIRSTHDR(h);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo *p = (struct in6_pktinfo *)CMSG_DATA(c);
    memcpy(&p->ipi6_addr, r + 24, 16);
    p->ipi6_ifindex = ifindex;
  }
}

/* 0, or the errno that stopped the batch */
static int flush(sock_t *s) {
  int off = 0, err = 0;
  while (off < s->nsend) {
    int n = sendmmsg(s->fd, s->smsgs + off, (unsigned)(s->nsend - off), MSG_DONTWAIT);
    s->counts[2]++;
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      /* EAGAIN (send buffer full) or an unroutable client: the rest of this batch is lost, as a kernel drop would lose it */
      err = n < 0 ? errno : EIO;
      s->counts[4] += s->nsend - off;
      break;
    }
    s->counts[3] += n;
    off += n;
  }
  s->nsend = 0;
  return err;
}

/* A connected socket's error to JS as a batch of -errno. */
static void deliver_error(sock_t *s, napi_env env, napi_value recv, napi_value cb, int err) {
  napi_value argv[1], result;
  napi_create_int32(env, -(err != 0 ? err : EIO), &argv[0]);
  if (napi_make_callback(env, s->async, recv, cb, 1, argv, &result) == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_fatal_exception(env, e);
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  sock_t *s = (sock_t *)handle->data;
  if (s->closed) return;
  if (status < 0 && !s->connected) return;
  if (status >= 0 && !(events & UV_READABLE)) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[1], result;
  napi_get_reference_value(env, s->on_batch, &cb);
  napi_get_global(env, &recv); /* make_callback needs an object as `this` */
  if (status < 0) {
    /* libuv stops polling on POLLERR: the pending error (an ICMP port unreachable) is the socket's end */
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    deliver_error(s, env, recv, cb, err);
    napi_close_handle_scope(env, scope);
    return;
  }
  for (int round = 0; round < MAX_BATCHES_PER_WAKE && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      struct msghdr *h = &s->rmsgs[i].msg_hdr;
      s->riov[i].iov_base = s->rx + (size_t)i * s->slot;
      s->riov[i].iov_len = s->slot;
      h->msg_iov = &s->riov[i];
      h->msg_iovlen = 1;
      h->msg_name = &s->rname[i];
      h->msg_namelen = sizeof s->rname[i];
      h->msg_control = s->rctl[i];
      h->msg_controllen = CTL;
      h->msg_flags = 0;
    }
    int n = recvmmsg(s->fd, s->rmsgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && s->connected && errno != EAGAIN && errno != EWOULDBLOCK) {
      /* a connected socket's pending ICMP error (ECONNREFUSED: nothing listens upstream) */
      deliver_error(s, env, recv, cb, errno);
      break;
    }
    if (n <= 0) break;
    for (int i = 0; i < n; i++) fill_meta(s, i);
    s->counts[0]++;
    s->counts[1] += n;
    napi_create_int32(env, n, &argv[0]);
    /* make_callback: microtasks (a promise resolved by a cache hit's bookkeeping) run after it, as after any I/O callback */
    napi_status st = napi_make_callback(env, s->async, recv, cb, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err); /* the listener catches its own errors; this is a bug, reported as Node reports one */
    }
    if (s->nsend > 0) flush(s);
    if (n < BATCH) break;
  }
  napi_close_handle_scope(env, scope);
}

/* The datagram buffers are mapped pages of their own, not malloc's: the upstream pool opens and
 * closes sockets all day, and glibc would keep each freed 256 KB block resident in its heap
 * (its mmap threshold rises after the first such free), where munmap gives it back at once. */
static uint8_t *map_pages(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : (uint8_t *)p;
}

/* Upstream sockets are retired every hundred queries: their send buffers go to a short spare list
 * and the next socket of the same slot size takes them, instead of an munmap, an mmap and fresh
 * zeroed pages faulted in on every rotation. One thread (the loop's) touches the list. */
#define SPARES 16
static struct { uint8_t *buf; size_t slot; } spares[SPARES];
static int nspares = 0;

static void release_buffer(uint8_t *buf, size_t slot) {
  if (!buf) return;
  if (slot < SLOT && nspares < SPARES) {
    spares[nspares].buf = buf;
    spares[nspares].slot = slot;
    nspares++;
    return;
  }
  munmap(buf, (size_t)BATCH * slot);
}

static uint8_t *take_buffer(size_t slot) {
  for (int i = nspares - 1; i >= 0; i--) {
    if (spares[i].slot != slot) continue;
    uint8_t *b = spares[i].buf;
    spares[i] = spares[--nspares];
    return b;
  }
  return map_pages((size_t)BATCH * slot);
}

static void free_sock(uv_handle_t *handle) {
  sock_t *s = (sock_t *)handle->data;
  if (!s->lent) {
    release_buffer(s->rx, s->slot);
    free(s->meta);
  }
  release_buffer(s->tx, s->slot);
  free(s);
}

static sock_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "UDP_BATCH", "not a socket handle");
    return NULL;
  }
  return (sock_t *)p;
}

/* The arguments of a call whose first is a socket handle: the socket, or NULL (an exception is pending). */
static sock_t *sock_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    napi_throw_type_error(env, "UDP_BATCH", "missing arguments");
    return NULL;
  }
  return unwrap(env, argv[0]);
}

/* An ArrayBuffer argument of exactly `len` bytes, or NULL. */
static void *arraybuffer_arg(napi_env env, napi_value v, size_t len) {
  bool is = false;
  void *data = NULL;
  size_t have = 0;
  if (napi_is_arraybuffer(env, v, &is) != napi_ok || !is) return NULL;
  if (napi_get_arraybuffer_info(env, v, &data, &have) != napi_ok || have != len) return NULL;
  return data;
}

/* open(address: string, port: number, reusePort: boolean, rcvbuf: number, onBatch: (n) => void[, slotSize[, rx, meta]])
 *   → { handle, rx: ArrayBuffer, meta: ArrayBuffer, port }
 * rx and meta, when given (ArrayBuffers of BATCH × slotSize and BATCH × META bytes), become the
 * socket's buffers: the upstream pool hands a retired socket's pair to its successor, because each
 * new external ArrayBuffer counts its 256 KB against V8's external-memory budget, and at a socket
 * every hundred queries that budget, not the heap, set off a full GC every 100 ms. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "UDP_BATCH", "missing arguments");
    return NULL;
  }
  int32_t slot_size = SLOT;
  if (argc >= 6) {
    napi_valuetype t;
    napi_typeof(env, argv[5], &t);
    if (t == napi_number) CHECK(napi_get_value_int32(env, argv[5], &slot_size));
    if (slot_size < 512 || slot_size > SLOT) slot_size = SLOT;
  }
  char address[64];
  size_t alen;
  int32_t port, rcvbuf;
  bool reuse;
  CHECK(napi_get_value_string_utf8(env, argv[0], address, sizeof address, &alen));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_bool(env, argv[2], &reuse));
  CHECK(napi_get_value_int32(env, argv[3], &rcvbuf));

  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t sslen;
  int family;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, address, &a4->sin_addr) == 1) {
    family = AF_INET;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    sslen = sizeof *a4;
  } else if (inet_pton(AF_INET6, address, &a6->sin6_addr) == 1) {
    family = AF_INET6;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    sslen = sizeof *a6;
  } else {
    napi_throw_type_error(env, "UDP_BATCH", "not an IP address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno, address, port);
  int one = 1;
  if (family == AF_INET) setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  else {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  }
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt SO_REUSEPORT", e, address, port);
  }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf); /* capped by net.core.rmem_max */
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e, address, port);
  }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  int bport = ntohs(family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port : ((struct sockaddr_in6 *)&bound)->sin6_port);

  uint8_t *lent_rx = argc >= 8 ? arraybuffer_arg(env, argv[6], (size_t)BATCH * slot_size) : NULL;
  uint8_t *lent_meta = argc >= 8 ? arraybuffer_arg(env, argv[7], BATCH * META) : NULL;
  sock_t *s = calloc(1, sizeof *s);
  int have = 0;
  if (s) {
    s->slot = slot_size;
    s->lent = lent_rx && lent_meta;
    s->rx = s->lent ? lent_rx : take_buffer(s->slot);
    s->meta = s->lent ? lent_meta : calloc(BATCH, META);
    s->tx = take_buffer(s->slot);
    have = s->rx && s->meta && s->tx;
  }
  if (!have) {
    close(fd);
    if (s) {
      if (!s->lent) { release_buffer(s->rx, s->slot); free(s->meta); }
      release_buffer(s->tx, s->slot);
      free(s);
    }
    napi_throw_error(env, "UDP_BATCH", "out of memory");
    return NULL;
  }
  s->fd = fd;
  s->family = family;
  s->env = env;
  CHECK(napi_create_reference(env, argv[4], 1, &s->on_batch));
  napi_value resource_name;
  napi_create_string_utf8(env, "edgedns:udp-batch", NAPI_AUTO_LENGTH, &resource_name);
  CHECK(napi_async_init(env, NULL, resource_name, &s->async));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);

  napi_value out, handle, rx, meta, vport;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_external(env, s, NULL, NULL, &handle));
  if (s->lent) {
    rx = argv[6];
    meta = argv[7];
    CHECK(napi_create_reference(env, rx, 1, &s->rx_ref));
    CHECK(napi_create_reference(env, meta, 1, &s->meta_ref));
  } else {
    CHECK(napi_create_external_arraybuffer(env, s->rx, (size_t)BATCH * s->slot, NULL, NULL, &rx));
    CHECK(napi_create_external_arraybuffer(env, s->meta, BATCH * META, NULL, NULL, &meta));
  }
  CHECK(napi_create_int32(env, bport, &vport));
  napi_set_named_property(env, out, "handle", handle);
  napi_set_named_property(env, out, "rx", rx);
  napi_set_named_property(env, out, "meta", meta);
  napi_set_named_property(env, out, "port", vport);
  return out;
}

static int buffer_arg(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  napi_is_buffer(env, v, &is);
  if (is) return napi_get_buffer_info(env, v, data, len) == napi_ok;
  napi_is_typedarray(env, v, &is);
  if (!is) return 0;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) == napi_ok;
}

/* Copy an answer into the next send slot, to the client in meta record `r`; a connected socket
 * passes NULL, since the kernel has its address. */
static void enqueue(sock_t *s, const void *data, size_t len, const uint8_t *r) {
  if (s->nsend == BATCH) flush(s);
  int k = s->nsend++;
  memcpy(s->tx + (size_t)k * s->slot, data, len);
  s->siov[k].iov_base = s->tx + (size_t)k * s->slot;
  s->siov[k].iov_len = len;
  struct msghdr *h = &s->smsgs[k].msg_hdr;
  memset(h, 0, sizeof *h);
  h->msg_iov = &s->siov[k];
  h->msg_iovlen = 1;
  if (r) prepare_send(s, h, &s->sname[k], s->sctl[k], r);
}

/* reply(handle, slot, buffer): queue an answer to datagram `slot` of the batch being handled. */
static napi_value js_reply(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sock_t *s = sock_args(env, info, 3, argv);
  if (!s || s->closed) return NULL;
  int32_t slot;
  CHECK(napi_get_value_int32(env, argv[1], &slot));
  void *data;
  size_t len;
  if (slot < 0 || slot >= BATCH || !buffer_arg(env, argv[2], &data, &len) || len > s->slot) {
    napi_throw_range_error(env, "UDP_BATCH", "bad slot or reply");
    return NULL;
  }
  enqueue(s, data, len, s->meta + slot * META);
  return NULL;
}

/* queueTo(handle, meta: Uint8Array (one 48-byte record, kept from its batch), buffer): an answer
 * that waited on I/O, queued with the others of this turn; flush(handle) sends them in one sendmmsg. */
static napi_value js_queue_to(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sock_t *s = sock_args(env, info, 3, argv);
  if (!s || s->closed) return NULL;
  void *meta, *data;
  size_t mlen, len;
  if (!buffer_arg(env, argv[1], &meta, &mlen) || mlen < META || !buffer_arg(env, argv[2], &data, &len) || len > s->slot) {
    napi_throw_type_error(env, "UDP_BATCH", "bad record or reply");
    return NULL;
  }
  enqueue(s, data, len, (const uint8_t *)meta);
  return NULL;
}

/* connect(handle, address, port): the upstream this socket talks to from now on. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sock_t *s = sock_args(env, info, 3, argv);
  if (!s || s->closed) return NULL;
  char address[64];
  size_t alen;
  int32_t port;
  CHECK(napi_get_value_string_utf8(env, argv[1], address, sizeof address, &alen));
  CHECK(napi_get_value_int32(env, argv[2], &port));
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t sslen;
  if (s->family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    if (inet_pton(AF_INET, address, &a->sin_addr) != 1) { napi_throw_type_error(env, "UDP_BATCH", "not an IPv4 address"); return NULL; }
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    sslen = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET6, address, &a->sin6_addr) != 1) { napi_throw_type_error(env, "UDP_BATCH", "not an IPv6 address"); return NULL; }
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    sslen = sizeof *a;
  }
  if (connect(s->fd, (struct sockaddr *)&ss, sslen) != 0) return throw_errno(env, "connect", errno, address, port);
  s->connected = 1;
  return NULL;
}

/* send(handle, buffer): a datagram to the connected peer, queued with the others of this turn
 * until flush(handle) sends them in one sendmmsg. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  sock_t *s = sock_args(env, info, 2, argv);
  if (!s || s->closed) return NULL;
  void *data;
  size_t len;
  if (!s->connected || !buffer_arg(env, argv[1], &data, &len) || len > s->slot) {
    napi_throw_type_error(env, "UDP_BATCH", "not connected, or a bad datagram");
    return NULL;
  }
  enqueue(s, data, len, NULL);
  return NULL;
}

/* flush(handle) → 0, or the errno a send failed with (a connected socket's ICMP error comes back here too) */
static napi_value js_flush(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  sock_t *s = sock_args(env, info, 1, argv);
  int err = s && !s->closed && s->nsend > 0 ? flush(s) : 0;
  napi_create_int32(env, err, &out);
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sock_t *s = sock_args(env, info, 1, argv);
  if (!s || s->closed) return NULL;
  if (s->nsend > 0) flush(s);
  s->closed = 1;
  napi_delete_reference(env, s->on_batch);
  if (s->lent) {
    napi_delete_reference(env, s->rx_ref);
    napi_delete_reference(env, s->meta_ref);
  }
  napi_async_destroy(env, s->async);
  /* uv_close stops the poll and takes the fd out of epoll at once; the fd is closed right after
   * (its port free for a listener reopened this turn). Closing it first, or a uv_poll_stop
   * before, made libuv's own epoll_ctl DEL fail: a wasted syscall per rotated pool socket. */
  uv_close((uv_handle_t *)&s->poll, free_sock);
  close(s->fd);
  return NULL;
}

/* stats(handle) → [batches, datagrams, sendmmsg calls, sent, send errors, truncated] */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sock_t *s = sock_args(env, info, 1, argv);
  if (!s) return NULL;
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 6, &arr));
  for (uint32_t i = 0; i < 6; i++) {
    napi_value v;
    napi_create_double(env, s->counts[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

/* trim() → whether memory went back: glibc keeps what a thread freed in that thread's arena, so
 * after the config worker exits its ~10 MB stay resident until malloc_trim returns them. */
static napi_value js_trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value out;
  napi_get_boolean(env, released != 0, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
    { "reply", NULL, js_reply, NULL, NULL, NULL, napi_default, NULL },
    { "queueTo", NULL, js_queue_to, NULL, NULL, NULL, napi_default, NULL },
    { "connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL },
    { "flush", NULL, js_flush, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
    { "trim", NULL, js_trim, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value v;
  napi_create_int32(env, BATCH, &v);
  napi_set_named_property(env, exports, "BATCH", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, exports, "SLOT", v);
  napi_create_int32(env, META, &v);
  napi_set_named_property(env, exports, "META", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
