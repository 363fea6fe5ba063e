// device/receive_reassembled.h — data messages that reach the daemon's UDP socket instead of
// xwg_rx. XDP sees frames, not datagrams: an outer datagram that arrived in IP fragments
// (fragmented by a router on an IPv4 path, or by a peer's own stack for a path or link
// narrower than its packets) passes XDP as fragments, and only the kernel reassembles
// it, for the socket. Such a message is decrypted and delivered exactly as if it had
// arrived whole: by xwg_rx's own code (xwg_rx_reassembled, run through
// BPF_PROG_TEST_RUN), so the keypair, replay window, counters, allowed-IPs check and
// roaming are the one copy the data plane uses; the decrypted frame then enters the
// tunnel device through a packet socket on its hidden end, as xwg_rx's redirect would.
// A token bucket bounds what a flood of fragments can cost the daemon.
#pragma once

#include "loader/kernel/dataplane.h"
#include "loader/kernel/udp_socket.h"

#include <cstdint>
#include <vector>

namespace xwg {

// Datagrams per second the daemon decrypts by default (XWG_REASSEMBLED_PPS overrides):
// at ~7.5 µs each (bench/dataplane_bench), under 40% of a CPU; ~570 Mbit/s of 1420-byte
// packets.
inline constexpr unsigned REASSEMBLED_DEFAULT_PPS = 50000;

class ReassembledReceiver {
public:
	// @hidden_ifindex: the tunnel's hidden end (xwg_rx redirects there); @underlays: the
	// only interfaces such datagrams are taken from; @per_second: the bucket's rate
	// (its depth is a tenth of a second's worth). Throws std::runtime_error.
	ReassembledReceiver(Dataplane &dp, unsigned hidden_ifindex, std::vector<unsigned> underlays,
			    unsigned per_second);
	~ReassembledReceiver();
	ReassembledReceiver(const ReassembledReceiver &) = delete;
	ReassembledReceiver &operator=(const ReassembledReceiver &) = delete;

	// A type-4 message that came to the socket on @listen_port. Drops are counted in
	// the data plane's `drops` (fragment_ratelimited, fragment_not_underlay, or what
	// xwg_rx decides).
	void receive(const UdpSockets::Datagram &d, std::uint16_t listen_port,
		     std::uint64_t now_ns);

	struct Stats {
		std::uint64_t delivered = 0;	  // decrypted into the tunnel device
		std::uint64_t deliver_failed = 0; // decrypted, but the device refused the frame
		std::uint64_t run_failed = 0;	  // the test run itself failed
	};
	const Stats &stats() const { return stats_; }

private:
	bool take_token(std::uint64_t now_ns);

	Dataplane &dp_;
	std::vector<unsigned> underlays_;
	int packet_fd_ = -1;
	double tokens_;
	double per_second_;
	double depth_;
	std::uint64_t refilled_ns_ = 0;
	std::vector<std::uint8_t> frame_, out_;
	Stats stats_;
};

// Writes into @f the frame xwg_rx would have seen for @d: Ethernet, an unfragmented IPv4
// or IPv6 header from d.from to d.to, UDP to @listen_port, then the message. (@f is
// reused from datagram to datagram.)
void reassembled_frame(const UdpSockets::Datagram &d, std::uint16_t listen_port,
		       std::vector<std::uint8_t> &f);

} // namespace xwg
