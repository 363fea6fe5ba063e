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
//   with --peers N: RX and TX again, on a second data plane whose peers map and allowed-IPs
//   trie hold N peers with a /32 each (198.18.0.0 + peer id), next to the same packets on
//   the base lab, interleaved run by run; prints the base/N ratios (issue 14: >= 0.9)
// The bench runs in a network namespace of its own (loopback stands in for the tunnel).
// RX and TX modify their packet in place, so each run gets a fresh packet (and a fresh
// counter, for the replay window); the XDP_PASS cases reuse one packet with `repeat`.
// Figures are the minimum and the median over the runs. Run as root.
// Usage: dataplane_bench [RUNS (2000)] [--peers N (1..XWG_MAX_PEERS)]
#include "dataplane_lab.h"
#include "reassembled_lab.h"


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
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

// One run of @prog_fd over @frame: its duration into @ns, or false (after a message naming
// @what and run @i) when the verdict is not @want.
bool timed_run(int prog_fd, const Bytes &frame, int want, const char *what, int i,
	       std::vector<double> &ns)
{
	auto r = run_prog(prog_fd, frame);
	if (r.verdict != want) {
		std::fprintf(stderr, "%s run %d: verdict %d\n", what, i, r.verdict);
		return false;
	}
	ns.push_back(r.duration_ns);
	return true;
}

// The allowed IP of peer @id in the scale case: 198.18.0.0 + id (all of 198.18.0.0/16 at
// XWG_MAX_PEERS peers, a full trie 16 levels below the /16).
std::string scale_ip(uint32_t id)
{
	return "198.18." + std::to_string(id >> 8) + "." + std::to_string(id & 0xff);
}

// The RX and TX cases on the lab's peer through its /32 of the scale range: the same
// packets on @base (the lab as it is, plus that /32) and on @big (the lab, plus @peers
// peers, ids 0..peers-1, each active and owning its /32), run alternately.
struct ScaleCase {
	DataplaneLab &base;
	DataplaneLab big;
	unsigned peers;
	std::vector<Bytes> rx_base, rx_big; // fresh frames per run: each needs its own counter
	Bytes tx_frame;
	std::vector<double> rx_base_ns, rx_big_ns, tx_base_ns, tx_big_ns;

	ScaleCase(DataplaneLab &lab, unsigned n, int runs, uint64_t base_counter) : base(lab), peers(n)
	{
		const Addr peer_in = addr(scale_ip(DataplaneLab::kPeer));
		base.allow(peer_in, 32, DataplaneLab::kPeer);
		for (uint32_t id = 0; id < n; id++) {
			if (id != DataplaneLab::kPeer && id != DataplaneLab::kOtherPeer) {
				xwg_peer p{};
				p.active = 1;
				DataplaneLab::require(big.dp.set_peer(id, p), "scale peer");
			}
			big.allow(addr(scale_ip(id)), 32, id);
		}
		if (n <= DataplaneLab::kPeer) // the measured peer needs its /32 in any case
			big.allow(peer_in, 32, DataplaneLab::kPeer);
		const Bytes inner_rx = inner_packet(peer_in, base.our_in4, 1420 - 28);
		for (int i = 0; i < runs; i++) {
			rx_base.push_back(base.data_frame(base.peer4, base.local4, base_counter + i, inner_rx));
			rx_big.push_back(big.data_frame(big.peer4, big.local4, i, inner_rx));
		}
		Mac m{2, 0, 0, 0, 0, 1};
		tx_frame = ethernet(m, m, ETH_P_IP, inner_packet(base.our_in4, peer_in, 1420 - 28));
	}

	// Run @i: RX and TX on both data planes; false (after a message) on a wrong verdict.
	bool run(int i)
	{
		return timed_run(base.dp.rx_prog_fd(), rx_base[i], XDP_REDIRECT, "scale rx", i, rx_base_ns) &&
		       timed_run(big.dp.rx_prog_fd(), rx_big[i], XDP_REDIRECT, "scale rx", i, rx_big_ns) &&
		       timed_run(base.dp.tx_prog_fd(), tx_frame, TC_ACT_REDIRECT, "scale tx", i, tx_base_ns) &&
		       timed_run(big.dp.tx_prog_fd(), tx_frame, TC_ACT_REDIRECT, "scale tx", i, tx_big_ns);
	}

	void report(int runs) const
	{
		const Stat rb = summarize(rx_base_ns), rn = summarize(rx_big_ns);
		const Stat tb = summarize(tx_base_ns), tn = summarize(tx_big_ns);
		std::printf("\nwith %u peers (a /32 each, 198.18.0.0 + peer id, in the peers map and the IPv4\n"
			    "allowed-IPs trie), against the base lab, the same 1420-B packets of the peer at %s,\n"
			    "alternating run by run; base/N = the base lab's median over the N-peer one (%d runs)\n",
			    peers, scale_ip(DataplaneLab::kPeer).c_str(), runs);
		std::printf("%-44s %9s %9s %10s\n", "case", "min", "median", "base/N");
		auto line = [](const char *what, Stat s, const char *ratio) {
			std::printf("%-44s %9.0f %9.0f %10s\n", what, s.min, s.median, ratio);
		};
		char r[32], t[32];
		std::snprintf(r, sizeof r, "%.3f", rb.median / rn.median);
		std::snprintf(t, sizeof t, "%.3f", tb.median / tn.median);
		line("xwg_rx 1420-B, base lab (1 peer + 1 idle)", rb, "");
		line("xwg_rx 1420-B, N peers", rn, r);
		line("xwg_tx 1420-B, base lab (1 peer + 1 idle)", tb, "");
		line("xwg_tx 1420-B, N peers", tn, t);
		std::printf("  ratios base/N: rx median %.3f min %.3f; tx median %.3f min %.3f\n",
			    rb.median / rn.median, rb.min / rn.min, tb.median / tn.median, tb.min / tn.min);
		// One line for scripts (bench/scale_bench.sh).
		std::printf("scale: peers=%u rx_base_ns=%.0f rx_n_ns=%.0f tx_base_ns=%.0f tx_n_ns=%.0f "
			    "rx_ratio=%.3f tx_ratio=%.3f\n",
			    peers, rb.median, rn.median, tb.median, tn.median, rb.median / rn.median,
			    tb.median / tn.median);
	}
};

} // namespace

int main(int argc, char **argv)
{
	int runs = 2000;
	unsigned peers = 0;
	for (int a = 1; a < argc; a++) {
		if (std::strcmp(argv[a], "--peers") == 0 && a + 1 < argc) {
			peers = static_cast<unsigned>(std::strtoul(argv[++a], nullptr, 10));
			if (peers < 1 || peers > XWG_MAX_PEERS) {
				std::fprintf(stderr, "--peers: 1..%u\n", unsigned(XWG_MAX_PEERS));
				return 2;
			}
		} else if (argv[a][0] != '-' && std::atoi(argv[a]) > 0) {
			runs = std::atoi(argv[a]);
		} else {
			std::fprintf(stderr, "usage: dataplane_bench [RUNS] [--peers N]\n");
			return 2;
		}
	}
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

	// The base lab's counters: RX 0.., jumbo runs.., reassembled 2*runs.. and 3*runs..
	std::unique_ptr<ScaleCase> scale;
	if (peers)
		scale = std::make_unique<ScaleCase>(lab, peers, runs, 4ull * runs);

	std::vector<double> rx, tx, pass_udp, pass_icmp, empty, jumbo;
	const int repeat = 1000;
	for (int i = 0; i < runs; i++) {
		if (!timed_run(lab.dp.rx_prog_fd(), rx_frames[i], XDP_REDIRECT, "rx", i, rx) ||
		    !timed_run(lab.dp.tx_prog_fd(), tx_frame, TC_ACT_REDIRECT, "tx", i, tx) ||
		    !timed_run(lab.dp.rx_prog_fd(), jumbo_frames[i], XDP_REDIRECT, "jumbo rx", i, jumbo))
			return 1;
		if (scale && !scale->run(i))
			return 1;
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
	if (scale)
		scale->report(runs);
	return 0;
}
