// dataplane_lab.h — a loaded data plane (the real xwg_rx/xwg_tx objects, no devices)
// with one configured peer, for BPF_PROG_TEST_RUN tests and benchmarks.
#pragma once

#include "bpf_run.h"
#include "loader/kernel/dataplane.h"
#include "loader/types/protocol_times.h"
#include "packet.h"

#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace xwgtest {

// Moves this process into a network namespace of its own with loopback up (once), and
// returns loopback's ifindex: a device to send into without touching the host's.
inline unsigned private_loopback()
{
	static const unsigned lo = [] {
		if (unshare(CLONE_NEWNET) != 0)
			throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") +
						 std::strerror(errno));
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ifreq ifr{};
		std::strcpy(ifr.ifr_name, "lo");
		ioctl(fd, SIOCGIFFLAGS, &ifr);
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
		close(fd);
		return if_nametoindex("lo");
	}();
	return lo;
}

inline uint64_t boottime_ns()
{
	timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

struct DataplaneLab {
	static constexpr uint16_t kPort = 51820;
	static constexpr uint16_t kPeerPort = 51821;
	static constexpr uint32_t kPeer = 3;
	static constexpr uint32_t kOtherPeer = 4;
	static constexpr uint32_t kIndex = 0x11223344;   // our receiver index
	static constexpr uint32_t kRemoteIndex = 0x55667788;
	static constexpr uint32_t kSlot = 7;
	static constexpr uint32_t kTunnelIfindex = 1;
	static constexpr uint32_t kUnderlayIfindex = 9;
	const Mac tunnel_mac{0x02, 0x77, 0x67, 0, 0, 1};
	const Mac hidden_mac{0x02, 0x77, 0x67, 0, 0, 2};

	xwg::Dataplane dp{xwg::DataplaneOptions{}};
	Key recv_key{}, send_key{};
	Addr local4 = addr("198.51.100.1"), peer4 = addr("198.51.100.2");
	Addr local6 = addr("2001:db8:ff::1"), peer6 = addr("2001:db8:ff::2");
	// The peer's overlay addresses (its allowed IPs) and ours.
	Addr peer_in4 = addr("192.0.2.2"), our_in4 = addr("192.0.2.1");
	Addr peer_in6 = addr("2001:db8:1::2"), our_in6 = addr("2001:db8:1::1");
	Addr other_in4 = addr("203.0.113.9");

	DataplaneLab()
	{
		randombytes_buf(recv_key.data(), recv_key.size());
		randombytes_buf(send_key.data(), send_key.size());
		xwg_config cfg{};
		cfg.listen_port = kPort;
		cfg.mtu = 1420;
		cfg.tunnel_ifindex = kTunnelIfindex;
		std::memcpy(cfg.tunnel_mac, tunnel_mac.data(), 6);
		std::memcpy(cfg.hidden_mac, hidden_mac.data(), 6);
		cfg.rekey_after_messages = XWG_REKEY_AFTER_MESSAGES;
		cfg.reject_after_messages = XWG_REJECT_AFTER_MESSAGES;
		namespace protocol = xwg::protocol;
		cfg.rekey_after_time_ns = protocol::to_ns(protocol::rekey_after_time);
		cfg.reject_after_time_ns = protocol::to_ns(protocol::reject_after_time);
		cfg.rekey_timeout_ns = protocol::to_ns(protocol::rekey_timeout);
		require(dp.set_config(cfg), "config");
		set_endpoint(peer4, local4);
		allow(addr("192.0.2.0"), 24, kPeer);
		allow(addr("2001:db8:1::"), 48, kPeer);
		allow(addr("203.0.113.0"), 24, kOtherPeer);
		xwg_peer other{};
		other.active = 1;
		require(dp.set_peer(kOtherPeer, other), "other peer");
		install_keypair(boottime_ns());
	}

	static void require(bool ok, const char *what)
	{
		if (!ok)
			throw std::runtime_error(std::string("lab set-up: ") + what + ": " +
						 std::strerror(errno));
	}

	void allow(const Addr &a, uint8_t plen, uint32_t peer)
	{
		require(dp.set_allowed_ip(a.bytes.data(), a.len(), plen, peer), "allowed ip");
	}

	// The peer's endpoint, reached through @ifindex, which becomes an underlay (xwg_tx
	// sends only through underlays).
	void set_endpoint(const Addr &remote, const Addr &local, uint32_t ifindex = kUnderlayIfindex)
	{
		auto cfg = dp.config();
		require(cfg.has_value(), "config lookup");
		if (cfg->underlay_ifindex[0] != ifindex) {
			cfg->underlay_ifindex[1] = cfg->underlay_ifindex[0];
			cfg->underlay_ifindex[0] = ifindex;
			require(dp.set_config(*cfg), "config");
		}
		xwg_peer p{};
		p.active = 1;
		p.current_index = current_index;
		require(dp.set_peer(kPeer, p), "peer");
		xwg_endpoint ep{};
		ep.family = remote.family;
		ep.port = htons(kPeerPort);
		ep.ifindex = ifindex;
		std::memcpy(ep.addr.v6, remote.bytes.data(), 16);
		std::memcpy(ep.src.v6, local.bytes.data(), 16);
		require(dp.set_endpoint(kPeer, ep).has_value(), "endpoint");
	}

	// The peer's endpoint as the data plane holds it now.
	xwg_endpoint endpoint()
	{
		auto e = dp.endpoint(kPeer);
		require(e.has_value(), "endpoint lookup");
		return e->ep;
	}

	// Retires the lab's keypair the way the daemon does: marked, a grace period, wiped.
	void remove_keypair()
	{
		dp.retire_keypair(kSlot);
		require(dp.grace_period(), "grace period");
		dp.wipe_keypair(kIndex, kSlot);
	}

	void install_keypair(uint64_t birth_ns, uint32_t flags = XWG_KEYPAIR_INITIATOR)
	{
		xwg_keypair kp{};
		std::memcpy(kp.recv_key, recv_key.data(), 32);
		std::memcpy(kp.send_key, send_key.data(), 32);
		kp.peer_id = kPeer;
		kp.remote_index = kRemoteIndex;
		kp.counter_slot = kSlot;
		kp.flags = flags;
		kp.birth_ns = birth_ns;
		if (dp.keypair(kIndex))
			remove_keypair();
		require(dp.install_keypair(kIndex, kSlot, kp), "keypair");
		current_index = kIndex;
		auto p = dp.peer(kPeer);
		require(p.has_value(), "peer lookup");
		p->current_index = kIndex;
		require(dp.set_peer(kPeer, *p), "peer");
	}

	// A frame from the peer's endpoint @from carrying a type-4 message around @inner.
	Bytes data_frame(const Addr &from, const Addr &to, uint64_t counter, const Bytes &inner,
			 uint16_t sport = kPeerPort)
	{
		return udp_frame(from, sport, to, kPort,
				 data_message(kIndex, counter, recv_key, inner));
	}

	RunResult rx(const Bytes &frame) { return run_prog(dp.rx_prog_fd(), frame); }
	RunResult tx(const Bytes &frame, __sk_buff *skb = nullptr)
	{
		return run_prog(dp.tx_prog_fd(), frame, 1, skb);
	}

	uint64_t drop_count(xwg_drop_reason r) const { return dp.drops()[r]; }

	uint32_t current_index = 0;
};

// An inner IP packet as the tunnel device hands it to xwg_tx.
inline Bytes tunnel_frame(const Bytes &inner)
{
	Mac a{2, 0, 0, 0, 0, 1}, b{2, 0, 0, 0, 0, 2};
	return ethernet(a, b, (inner[0] >> 4) == 4 ? ETH_P_IP : ETH_P_IPV6, inner);
}

// What the data plane tells the daemon: the records of the events ring and, with
// @staged, of the staged ring too, in the order consumed.
struct Events {
	std::vector<Bytes> records;
	ring_buffer *rb = nullptr;
	explicit Events(xwg::Dataplane &dp, bool staged = true)
	{
		rb = ring_buffer__new(dp.events_fd(), &Events::on_record, this, nullptr);
		if (!rb || (staged && ring_buffer__add(rb, dp.staged_fd(), &Events::on_record, this)))
			throw std::runtime_error("ring_buffer__new");
	}
	~Events() { ring_buffer__free(rb); }
	Events(const Events &) = delete;
	Events &operator=(const Events &) = delete;
	static int on_record(void *ctx, void *data, size_t len)
	{
		auto *self = static_cast<Events *>(ctx);
		auto *p = static_cast<uint8_t *>(data);
		self->records.emplace_back(p, p + len);
		return 0;
	}
	std::vector<Bytes> take()
	{
		records.clear();
		ring_buffer__consume(rb);
		return std::move(records);
	}
};

inline const xwg_event &event_of(const Bytes &rec)
{
	return *reinterpret_cast<const xwg_event *>(rec.data());
}

} // namespace xwgtest
