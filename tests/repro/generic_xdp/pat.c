// SPDX-License-Identifier: GPL-2.0
/* pat.c — TCP pattern sender and checking receiver for the generic-XDP reproducer.
 *
 *   pat send IP PORT NBYTES ROUND   connect, send NBYTES of the pattern, close
 *   pat recv PORT NBYTES ROUND      accept one connection, read until EOF, check
 *
 * The pattern is a stream of little-endian 32-bit words; the word at byte offset o
 * (o % 4 == 0) is (ROUND << 24) | ((o / 4) & 0xffffff). So wrong bytes tell where they
 * came from: another offset of this stream, another round's stream, zeros, the bytes
 * the transform left swapped (32-bit halves of 8-byte words exchanged), this stream's
 * own bytes shifted by a few bytes (kind=shifted shift=S garbage=<the S bytes before>),
 * or something else.
 *
 * recv prints one summary line
 *   PAT round=R bytes=N want=N bad_bytes=B bad_ranges=K secs=S mbit=M
 * and up to 20 lines per bad range (gaps < 8 good bytes are merged)
 *   BAD off=O len=L kind=KIND [src_round=.. src_off=.. delta=..] match=W/T got=w0 w1 w2 w3
 * Exit status: 0 all bytes right, 3 some wrong or missing, 1 error.
 * Build: gcc -O2 -static -o pat pat.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static uint32_t word_at(uint32_t round, uint64_t off)
{
	return (round << 24) | ((uint32_t)(off >> 2) & 0xffffff);
}

static void fill(uint8_t *buf, uint64_t off, size_t n, uint32_t round)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t o = off + i;
		uint32_t w = word_at(round, o & ~3ull);
		buf[i] = (uint8_t)(w >> (8 * (o & 3)));
	}
}

static uint8_t want_byte(uint32_t round, uint64_t o)
{
	return (uint8_t)(word_at(round, o & ~3ull) >> (8 * (o & 3)));
}

static double now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static int do_send(const char *ip, int port, uint64_t n, uint32_t round)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	static uint8_t buf[65536];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	uint64_t off = 0;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 || s < 0)
		return 1;
	for (int tries = 0; connect(s, (void *)&a, sizeof(a)) < 0; tries++) {
		if (tries > 50) {
			perror("connect");
			return 1;
		}
		close(s);
		usleep(100000);
		s = socket(AF_INET, SOCK_STREAM, 0);
	}
	while (off < n) {
		size_t c = n - off < sizeof(buf) ? n - off : sizeof(buf);
		fill(buf, off, c, round);
		for (size_t done = 0; done < c;) {
			ssize_t w = write(s, buf + done, c - done);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				perror("write");
				return 1;
			}
			done += w;
		}
		off += c;
	}
	shutdown(s, SHUT_WR);
	/* wait for the receiver to close, so the data is delivered before we exit */
	while (read(s, buf, sizeof(buf)) > 0)
		;
	close(s);
	return 0;
}

static const char *classify(const uint8_t *got, uint64_t off, uint64_t len, uint32_t round,
			    char *extra, size_t extra_len)
{
	uint64_t a = (off + 3) & ~3ull, end = off + len, words = 0, m;
	uint32_t w, src_round;
	int64_t delta;

	extra[0] = 0;
	if (a + 4 > end)
		return "short";
	/* zeros? */
	m = 0;
	for (uint64_t o = a; o + 4 <= end; o += 4, words++)
		m += (*(uint32_t *)(got + o) == 0);
	if (m == words) {
		snprintf(extra, extra_len, "match=%llu/%llu", (unsigned long long)m,
			 (unsigned long long)words);
		return "zeros";
	}
	/* left transformed (32-bit halves of 8-byte words swapped, aligned to the
	 * TCP payload start, which is not known here: try both word phases) */
	for (int ph = 0; ph < 8; ph += 4) {
		m = 0;
		words = 0;
		for (uint64_t o = a; o + 4 <= end; o += 4, words++) {
			uint64_t sw = ((o - off + ph) & 4) ? o - 4 : o + 4;
			m += (*(uint32_t *)(got + o) == word_at(round, sw));
		}
		if (m * 2 > words) {
			snprintf(extra, extra_len, "match=%llu/%llu", (unsigned long long)m,
				 (unsigned long long)words);
			return "swapped";
		}
	}
	/* this stream's own bytes, shifted later by s bytes (s garbage bytes first)? */
	for (int sh = 1; sh <= 64 && (uint64_t)sh + 64 <= len; sh++) {
		uint64_t n = len - sh < 512 ? len - sh : 512, ok = 0;
		for (uint64_t i = 0; i < n; i++)
			ok += got[off + sh + i] == want_byte(round, off + i);
		if (ok * 10 >= n * 9) {
			int p = snprintf(extra, extra_len, "shift=%d match=%llu/%llu garbage=", sh,
					 (unsigned long long)ok, (unsigned long long)n);
			for (int i = 0; i < sh && i < 16 && p < (int)extra_len - 3; i++)
				p += snprintf(extra + p, extra_len - p, "%02x", got[off + i]);
			return "shifted";
		}
	}
	/* the pattern from somewhere else? */
	w = *(uint32_t *)(got + a);
	src_round = w >> 24;
	delta = (int64_t)((uint64_t)(w & 0xffffff) << 2) - (int64_t)(a & ((1ull << 26) - 1));
	m = 0;
	words = 0;
	for (uint64_t o = a; o + 4 <= end; o += 4, words++)
		m += (*(uint32_t *)(got + o) == word_at(src_round, (uint64_t)((int64_t)o + delta)));
	snprintf(extra, extra_len, "src_round=%u src_off=%llu delta=%lld match=%llu/%llu", src_round,
		 (unsigned long long)((w & 0xffffff) << 2), (long long)delta,
		 (unsigned long long)m, (unsigned long long)words);
	if (m * 2 > words)
		return src_round == round ? "pattern_other_offset" : "pattern_other_round";
	return "other";
}

static int do_recv(int port, uint64_t n, uint32_t round)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), s;
	uint8_t *buf = malloc(n + 65536);
	uint64_t got = 0, bad = 0, ranges = 0;
	double t0;

	if (l < 0 || !buf)
		return 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&a, sizeof(a)) < 0 || listen(l, 1) < 0) {
		perror("bind/listen");
		return 1;
	}
	s = accept(l, NULL, NULL);
	if (s < 0) {
		perror("accept");
		return 1;
	}
	t0 = now();
	for (;;) {
		static uint8_t scratch[65536];
		int in_buf = got + 65536 <= n + 65536;
		ssize_t r = in_buf ? read(s, buf + got, n + 65536 - got) : read(s, scratch, sizeof(scratch));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("read");
			break;
		}
		if (r == 0)
			break;
		got += r;
	}
	double secs = now() - t0;
	close(s);
	close(l);

	uint64_t lim = got < n ? got : n, i = 0;
	int shown = 0;
	char line[4096];
	while (i < lim) {
		if (buf[i] == want_byte(round, i)) {
			i++;
			continue;
		}
		uint64_t start = i, last = i, nbad = 0;
		while (i < lim && i - last < 8) {
			if (buf[i] != want_byte(round, i)) {
				last = i;
				nbad++;
			}
			i++;
		}
		bad += nbad;
		ranges++;
		if (shown < 20) {
			char extra[256];
			uint64_t len = last + 1 - start, a = (start + 3) & ~3ull;
			const char *k = classify(buf, start, len, round, extra, sizeof(extra));
			int p = snprintf(line, sizeof(line), "BAD off=%llu len=%llu nbad=%llu kind=%s %s got=",
					 (unsigned long long)start, (unsigned long long)len,
					 (unsigned long long)nbad, k, extra);
			for (int j = 0; j < 4 && a + 4 * j + 4 <= lim; j++)
				p += snprintf(line + p, sizeof(line) - p, "%08x ", *(uint32_t *)(buf + a + 4 * j));
			p += snprintf(line + p, sizeof(line) - p, "want=");
			for (int j = 0; j < 4; j++)
				p += snprintf(line + p, sizeof(line) - p, "%08x ", word_at(round, a + 4 * j));
			puts(line);
			shown++;
		}
	}
	printf("PAT round=%u bytes=%llu want=%llu bad_bytes=%llu bad_ranges=%llu secs=%.1f mbit=%.1f\n",
	       round, (unsigned long long)got, (unsigned long long)n, (unsigned long long)bad,
	       (unsigned long long)ranges, secs, secs > 0 ? got * 8 / secs / 1e6 : 0.0);
	fflush(stdout);
	return (bad || got != n) ? 3 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0), atoi(argv[5]) & 0xff);
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), strtoull(argv[3], NULL, 0), atoi(argv[4]) & 0xff);
	fprintf(stderr, "usage: pat send IP PORT NBYTES ROUND | pat recv PORT NBYTES ROUND\n");
	return 1;
}
