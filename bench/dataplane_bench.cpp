// dataplane_bench — what the data plane costs per packet, measured by the kernel around
// the real programs (BPF_PROG_TEST_RUN's duration, no syscall overhead), in one run:
//   RX: a valid 1420-byte data packet through xwg_rx (verify, decrypt, checks, redirect)
//   TX: a 1420-byte inner packet through xwg_tx (route, counter, pad, seal, headers)
//   non-tunnel traffic through xwg_rx (a UDP datagram to another port, and ICMP)
//   next to an empty XDP program (xwg_tun, which only returns XDP_PASS)
//   RX of an 8920-byte jumbo packet, which arrives in XDP fragments (the copy path)
//   the daemon's path for datagrams the kernel reassembled from IP fragments
//   (ReassembledReceiver: frame, BPF_PROG_TEST_RUN of xwg_rx_reassembled, packet socket
//   into the device), timed by the wall clock per datagram, as datagrams per second
// The bench runs in a network namespace of its own (loopback stands in for the tunnel).
// RX and TX modify their packet in place, so each run gets a fresh packet (and a fresh
// counter, for the replay window); the XDP_PASS cases reuse one packet with `repeat`.
// Figures are the minimum and the median over the runs. Run as root.
#include "dataplane_lab.h"
#include "reassembled_lab.h"


#include <algorithm>
#include <chrono>
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

// Datagrams per second through ReassembledReceiver for @n messages around @inner.
double reassembled_pps(DataplaneLab &lab, const Bytes &inner, int n, uint64_t first_counter)
{
	const unsigned lo = private_loopback();
	xwg::ReassembledReceiver rr(lab.dp, lo, {lo}, 1000000000u);
	std::vector<xwg::UdpSockets::Datagram> ds;
	for (int i = 0; i < n; i++) {
		auto d = reassembled_datagram(lab, first_counter + i, inner, lo);
		ds.push_back(std::move(d));
	}
	auto t0 = std::chrono::steady_clock::now();
	for (const auto &d : ds)
		rr.receive(d, DataplaneLab::kPort, boottime_ns());
	auto t1 = std::chrono::steady_clock::now();
	if (rr.stats().delivered != static_cast<uint64_t>(n)) {
		std::fprintf(stderr, "reassembled path: %llu of %d delivered\n",
			     static_cast<unsigned long long>(rr.stats().delivered), n);
		return 0;
	}
	return n / std::chrono::duration<double>(t1 - t0).count();
}

} // namespace

int main(int argc, char **argv)
{
	int runs = argc > 1 ? std::atoi(argv[1]) : 2000;
	if (sodium_init() < 0)
		return 1;
	private_loopback();
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

	Bytes inner_jumbo = inner_packet(lab.peer_in4, lab.our_in4, 8920 - 28);
	std::vector<Bytes> jumbo_frames;
	for (int i = 0; i < runs; i++)
		jumbo_frames.push_back(lab.data_frame(lab.peer4, lab.local4, runs + i, inner_jumbo));

	std::vector<double> rx, tx, pass_udp, pass_icmp, empty, jumbo;
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
		auto j = run_prog(lab.dp.rx_prog_fd(), jumbo_frames[i]);
		if (j.verdict != XDP_REDIRECT) {
			std::fprintf(stderr, "jumbo rx run %d: verdict %d\n", i, j.verdict);
			return 1;
		}
		jumbo.push_back(j.duration_ns);
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
	row("xwg_rx, 8920-B jumbo in XDP fragments", summarize(jumbo), e.min);
	std::printf("  (per byte: 1420-B %.2f ns, 8920-B jumbo %.2f ns)\n",
		    summarize(rx).median / 1420, summarize(jumbo).median / 8920);

	const double pps1420 = reassembled_pps(lab, inner_rx, runs, 2 * runs);
	const double pps8920 = reassembled_pps(lab, inner_jumbo, runs, 3 * runs);
	std::printf("\nreassembled datagrams through the daemon's path (wall clock, %d each)\n", runs);
	std::printf("%-44s %12s %12s\n", "case", "datagrams/s", "Mbit/s");
	std::printf("%-44s %12.0f %12.0f\n", "1420-B inner packets", pps1420, pps1420 * 1420 * 8 / 1e6);
	std::printf("%-44s %12.0f %12.0f\n", "8920-B inner packets", pps8920, pps8920 * 8920 * 8 / 1e6);
	std::printf("(the daemon takes at most XWG_REASSEMBLED_PPS, default %u, per second)\n",
		    xwg::REASSEMBLED_DEFAULT_PPS);
	return 0;
}
