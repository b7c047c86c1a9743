/* Sends every frame of a classic pcap file out of one interface as fast as the kernel takes them:
   frames are loaded into memory first, then handed over in batches with sendmmsg on an AF_PACKET socket.
   It stands in for a mirror port at full load in bench/live-capture.sh (tcpreplay manages ~90 k frames/s here).
   Usage: rawsend IFACE FILE.pcap [PASSES]   Prints frames sent, seconds and frames/s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 256

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: rawsend IFACE FILE.pcap [PASSES]\n"); return 2; }
  int passes = argc > 3 ? atoi(argv[3]) : 1;
  FILE *f = fopen(argv[2], "rb");
  if (!f) { perror(argv[2]); return 1; }
  fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(size);
  if (!data || fread(data, 1, size, f) != (size_t)size) { fprintf(stderr, "cannot read %s\n", argv[2]); return 1; }
  if (*(uint32_t *)data != 0xa1b2c3d4u) { fprintf(stderr, "%s: not a little-endian microsecond pcap\n", argv[2]); return 1; }

  long count = 0;
  for (long off = 24; off + 16 <= size; off += 16 + *(uint32_t *)(data + off + 8)) count++;
  struct iovec *iov = calloc(count, sizeof *iov);
  long i = 0;
  for (long off = 24; off + 16 <= size; off += 16 + *(uint32_t *)(data + off + 8), i++) {
    iov[i].iov_base = data + off + 16;
    iov[i].iov_len = *(uint32_t *)(data + off + 8);
  }

  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (s < 0) { perror("socket"); return 1; }
  struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(argv[1]), .sll_halen = 6 };
  if (!to.sll_ifindex) { fprintf(stderr, "no interface %s\n", argv[1]); return 1; }
  if (bind(s, (struct sockaddr *)&to, sizeof to) < 0) { perror("bind"); return 1; }

  struct mmsghdr msgs[BATCH];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  long sent = 0;
  for (int p = 0; p < passes; p++) {
    for (long next = 0; next < count;) {
      int n = count - next < BATCH ? (int)(count - next) : BATCH;
      for (int k = 0; k < n; k++) {
        memset(&msgs[k], 0, sizeof msgs[k]);
        msgs[k].msg_hdr.msg_iov = &iov[next + k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int done = sendmmsg(s, msgs, n, 0);
      if (done < 0) { perror("sendmmsg"); return 1; }
      next += done;
      sent += done;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%ld frames sent in %.3f s: %.0f frames/s\n", sent, secs, sent / secs);
  return 0;
}
