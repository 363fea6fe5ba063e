// dataplane_bench — what the data plane costs per packet, measured by the kernel around
// the real programs (BPF_PROG_TEST_RUN's duration, no syscall overhead), in one run:
//   RX: a valid 1420-byte data packet through xwg_rx (verify, decrypt, checks, redirect)
//   TX: a 1420-byte inner packet through xwg_tx (route, counter, pad, seal, headers)
//   non-tunnel traffic through xwg_rx (a UDP datagram to another port, and ICMP)
//   next to an empty XDP program (xwg_tun, which only returns XDP_PASS)
// RX and TX modify their packet in place, so each run gets a fresh packet (and a fresh
// counter, for the replay window); the XDP_PASS cases reuse one packet with `repeat`.
// Figures are the minimum and the median over the runs. Run as root.
#include "dataplane_lab.h"

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace xwgtest;

namespace {

struct Stat {
	double min = 0, median = 0;
};

Stat summarize(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return {v.front(), v[v.size() / 2]};
}

void row(const char *what, Stat s, double base)
{
	std::printf("%-44s %9.0f %9.0f %9.2fx\n", what, s.min, s.median, s.min / base);
}

} // namespace

int main(int argc, char **argv)
{
	int runs = argc > 1 ? std::atoi(argv[1]) : 2000;
	if (sodium_init() < 0)
		return 1;
	DataplaneLab lab;
	Mac m{2, 0, 0, 0, 0, 1};

	// Fresh packets, built before timing.
	Bytes inner_rx = inner_packet(lab.peer_in4, lab.our_in4, 1420 - 28);
	Bytes inner_tx = inner_packet(lab.our_in4, lab.peer_in4, 1420 - 28);
	std::vector<Bytes> rx_frames;
	for (int i = 0; i < runs; i++)
		rx_frames.push_back(lab.data_frame(lab.peer4, lab.local4, i, inner_rx));
	Bytes tx_frame = ethernet(m, m, ETH_P_IP, inner_tx);
	Bytes other_udp = udp_frame(lab.peer4, 1234, lab.local4, 53, Bytes(1392, 0xab));
	Bytes icmp = inner_packet(lab.peer4, lab.local4, 1392);
	icmp[9] = IPPROTO_ICMP;
	Bytes icmp_frame = ethernet(m, m, ETH_P_IP, icmp);

	std::vector<double> rx, tx, pass_udp, pass_icmp, empty;
	const int repeat = 1000;
	for (int i = 0; i < runs; i++) {
		auto r = run_prog(lab.dp.rx_prog_fd(), rx_frames[i]);
		if (r.verdict != XDP_REDIRECT) {
			std::fprintf(stderr, "rx run %d: verdict %d\n", i, r.verdict);
			return 1;
		}
		rx.push_back(r.duration_ns);
		auto t = run_prog(lab.dp.tx_prog_fd(), tx_frame);
		if (t.verdict != TC_ACT_REDIRECT) {
			std::fprintf(stderr, "tx run %d: verdict %d\n", i, t.verdict);
			return 1;
		}
		tx.push_back(t.duration_ns);
		if (i % 20 == 0) {
			pass_udp.push_back(run_prog(lab.dp.rx_prog_fd(), other_udp, repeat).duration_ns);
			pass_icmp.push_back(run_prog(lab.dp.rx_prog_fd(), icmp_frame, repeat).duration_ns);
			empty.push_back(run_prog(lab.dp.tun_prog_fd(), other_udp, repeat).duration_ns);
		}
	}
	Stat e = summarize(empty);
	std::printf("data plane per packet, ns (in-kernel BPF_PROG_TEST_RUN duration; %d runs)\n",
		    runs);
	std::printf("%-44s %9s %9s %10s\n", "case", "min", "median", "vs empty");
	row("empty XDP program (XDP_PASS)", e, e.min);
	row("xwg_rx, UDP to another port (XDP_PASS)", summarize(pass_udp), e.min);
	row("xwg_rx, ICMP (XDP_PASS)", summarize(pass_icmp), e.min);
	row("xwg_rx, 1420-B data: verify+decrypt+redirect", summarize(rx), e.min);
	row("xwg_tx, 1420-B inner: seal+encapsulate", summarize(tx), e.min);
	return 0;
}
