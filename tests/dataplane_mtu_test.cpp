// dataplane_mtu_test.cpp — every packet size through the real xwg_tx and xwg_rx objects.
//
// For tunnel MTUs around the usual values and a jumbo one, every inner length from 1 byte
// to the MTU, inner IPv4 and IPv6, over an IPv4 and an IPv6 endpoint:
//  - xwg_tx's output is checked field by field against values computed here (outer
//    lengths, IPv4 header checksum, DF clear and an id that changes from packet to packet,
//    UDP checksum, the type-4 header, one counter per packet) and opened with libsodium:
//    it must hold exactly the inner packet and the zero padding of WireGuard's rule,
//    modelled here again (reference_padding), not taken from the product. Shorter than
//    an IP header (IPv4 below 20 bytes, IPv6 below 40), the frame must be dropped as
//    tx_not_ip, and counted once;
//  - xwg_rx gets messages sealed with libsodium, padded by the same model, and must hand
//    exactly Ethernet + the inner packet to the tunnel device.
//
// BPF_PROG_TEST_RUN builds a TC program's packet as a linear skb of at most about a page
// (3712 bytes on x86-64 with 4 KB pages), and refuses one too short for the IP header its
// ethertype announces. Those frames go through a live path instead: the tunnel veth pair
// with xwg_tx on the clsact ingress of its hidden end, as the daemon attaches it, and an
// underlay veth whose far end is read with AF_PACKET. The whole TX sweep runs inside a
// private network namespace, so the endpoint's ifindex names that underlay for both
// paths. XDP frames beyond a page need xwg_rx to be an xdp.frags program:
// BPF_PROG_TEST_RUN then puts the rest of the frame into fragments.
//
// Silent on success. A failing direction and MTU prints its failures grouped by families,
// what went wrong and the drop counters that moved, with the lengths of each group (runs,
// residues mod 4 and 16) and its first packet in full: L, MTU, families, every problem.
#include <catch2/catch.hpp>

#include "dataplane_lab.h"
#include "netns_lab.h"
#include "xwg/protocol.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

using namespace xwgtest;

namespace {

constexpr unsigned kMtus[] = {1280, 1418, 1420, 1421, 1450, 8920};
constexpr size_t kShownGroups = 24; // kinds of failure printed per direction and MTU
constexpr size_t kEthernet = sizeof(ethhdr);
constexpr size_t kUdp = sizeof(udphdr);
constexpr size_t kDataHeader = sizeof(xwg_msg_data);
constexpr size_t kTag = 16;

// WireGuard's padding rule (send.c, calculate_skb_padding) written out again as the
// oracle: the part of the packet beyond whole MTUs is padded to a multiple of 16, but
// never past the MTU. Returns the number of zero bytes after an inner packet of @len.
size_t reference_padding(size_t len, size_t mtu)
{
	const size_t last_unit = len % mtu;
	size_t padded = (last_unit + 15) / 16 * 16;
	if (padded > mtu)
		padded = mtu;
	return padded - last_unit;
}

std::string hex(unsigned v)
{
	char s[16];
	std::snprintf(s, sizeof(s), "0x%04x", v);
	return s;
}

const char *fam(int family)
{
	return family == AF_INET ? "v4" : "v6";
}
size_t ip_header_len(int family)
{
	return family == AF_INET ? sizeof(iphdr) : sizeof(ipv6hdr);
}
uint16_t ethertype(int family)
{
	return family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
}

std::string tc_verdict(int v)
{
	switch (v) {
	case TC_ACT_OK:
		return "TC_ACT_OK";
	case TC_ACT_SHOT:
		return "TC_ACT_SHOT";
	case TC_ACT_REDIRECT:
		return "TC_ACT_REDIRECT";
	default:
		return "TC verdict " + std::to_string(v);
	}
}

std::string xdp_verdict(int v)
{
	switch (v) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "XDP verdict " + std::to_string(v);
	}
}

// The drop counters that moved, "frame_too_big+1 headroom+1", or "" if none did.
std::string drops_moved(const xwg::DropCounters &before, const xwg::DropCounters &after)
{
	std::string s;
	for (int i = 0; i < XWG_DROP_REASON_MAX; i++) {
		if (after[i] == before[i])
			continue;
		if (!s.empty())
			s += ' ';
		s += xwg_drop_reason_name(static_cast<xwg_drop_reason>(i));
		s += '+' + std::to_string(after[i] - before[i]);
	}
	return s;
}

// What was wrong with one packet: short kinds to group packets by, and the same with
// the values.
struct Outcome {
	std::vector<std::string> kinds, details;
	void bad(const std::string &kind, const std::string &detail)
	{
		kinds.push_back(kind);
		details.push_back(detail);
	}
	bool ok() const { return kinds.empty(); }
};

std::string join(const std::vector<std::string> &parts, const char *sep)
{
	std::string s;
	for (const auto &p : parts)
		s += (s.empty() ? "" : sep) + p;
	return s;
}

// "1234 lengths: 21-23, 25-27, ... (355 runs), L%4 in {1,2,3}, L%16 in {...}"
std::string lengths_text(const std::vector<size_t> &lengths)
{
	std::vector<std::pair<size_t, size_t>> runs;
	std::set<size_t> mod4, mod16;
	for (size_t l : lengths) {
		if (!runs.empty() && runs.back().second + 1 == l)
			runs.back().second = l;
		else
			runs.emplace_back(l, l);
		mod4.insert(l % 4);
		mod16.insert(l % 16);
	}
	std::ostringstream o;
	auto put = [&](const std::pair<size_t, size_t> &r) {
		o << r.first;
		if (r.second != r.first)
			o << '-' << r.second;
	};
	o << lengths.size() << (lengths.size() == 1 ? " length: L " : " lengths: L ");
	if (runs.size() <= 6) {
		for (size_t i = 0; i < runs.size(); i++) {
			if (i)
				o << ", ";
			put(runs[i]);
		}
	} else {
		for (size_t i = 0; i < 3; i++) {
			put(runs[i]);
			o << ", ";
		}
		o << "..., ";
		put(runs[runs.size() - 2]);
		o << ", ";
		put(runs.back());
		o << " (" << runs.size() << " runs)";
	}
	auto residues = [&](const char *name, const std::set<size_t> &set, size_t all) {
		if (set.size() == all || lengths.size() < 2)
			return;
		o << ", " << name << " in {";
		bool first = true;
		for (size_t r : set) {
			o << (first ? "" : ",") << r;
			first = false;
		}
		o << '}';
	};
	residues("L%4", mod4, 4);
	residues("L%16", mod16, 16);
	return o.str();
}

// The failures of one direction at one MTU, grouped by families, what went wrong and
// the drop counters that moved; the first packet of each group is kept in full.
struct Report {
	std::string direction;
	unsigned mtu = 0;
	size_t packets = 0, failed = 0;
	struct Group {
		std::vector<size_t> lengths;
		std::string example;
	};
	std::map<std::string, Group> groups;

	void add(size_t len, int outer, int inner, const Outcome &o, const std::string &drops)
	{
		packets++;
		if (o.ok())
			return;
		failed++;
		const std::string moved = drops.empty() ? "none" : drops;
		auto &g = groups[std::string("outer ") + fam(outer) + ", inner " + fam(inner) +
				 ": " + join(o.kinds, ", ") + " | drops: " + moved];
		if (g.lengths.empty())
			g.example = "L=" + std::to_string(len) + " mtu=" + std::to_string(mtu) +
				    " outer=" + fam(outer) + " inner=" + fam(inner) + ": " +
				    join(o.details, "; ") + " | drops: " + moved;
		g.lengths.push_back(len);
	}
	std::string text() const
	{
		std::ostringstream o;
		o << direction << ", tunnel MTU " << mtu << ": " << failed << " of " << packets
		  << " packets wrong\n";
		size_t n = 0;
		for (const auto &[what, g] : groups) {
			if (n++ == kShownGroups) {
				o << "  ... and " << groups.size() - kShownGroups
				  << " more groups\n";
				break;
			}
			o << "  " << what << "\n    " << lengths_text(g.lengths) << "\n    e.g. "
			  << g.example << "\n";
		}
		return o.str();
	}
};

// ---- TX ---------------------------------------------------------------------------------

// The first @len bytes of a @family header: not a whole IP packet.
Bytes truncated_header(const DataplaneLab &lab, int family, size_t len)
{
	Bytes h = family == AF_INET ? ip_packet(lab.our_in4, lab.peer_in4, sizeof(iphdr))
				    : ip_packet(lab.our_in6, lab.peer_in6, sizeof(ipv6hdr));
	h.resize(len);
	return h;
}

// The UDP checksum a datagram at @l4 of @f (to the frame's end) must carry, over its
// bytes with the checksum field left out; 0xffff for a sum of zero.
uint16_t expected_udp_check(const Bytes &f, int family, size_t l3, size_t l4)
{
	const size_t udp_len = f.size() - l4;
	uint64_t sum = family == AF_INET ? csum_add(0, f.data() + l3 + 12, 8)
					 : csum_add(0, f.data() + l3 + 8, 32);
	sum += IPPROTO_UDP + udp_len;
	sum = csum_add(sum, f.data() + l4, 6);
	sum = csum_add(sum, f.data() + l4 + kUdp, udp_len - kUdp);
	uint16_t c = csum_fold(sum);
	return c ? c : 0xffff;
}

// Counters xwg_tx put on the wire: one per packet sent, starting at 0.
struct CounterTrack {
	std::optional<uint64_t> last;
	bool consecutive = true;       // no packet went unsent since `last`
	std::optional<uint16_t> ip_id; // of the last packet, if it went over IPv4
};

// Checks the frame xwg_tx sent for @inner (L bytes) to @outer's endpoint at @mtu.
void check_sent_frame(const DataplaneLab &lab, const Bytes &f, int outer, const Bytes &inner,
		      size_t mtu, CounterTrack &counters, Outcome &o)
{
	const size_t len = inner.size(), pad = reference_padding(len, mtu);
	const size_t l3 = kEthernet, l4 = l3 + ip_header_len(outer);
	const size_t want_size = l4 + kUdp + kDataHeader + len + pad + kTag;
	const Addr &src = outer == AF_INET ? lab.local4 : lab.local6;
	const Addr &dst = outer == AF_INET ? lab.peer4 : lab.peer6;

	if (f.size() < l4 + kUdp + kDataHeader + kTag) {
		o.bad("frame too short", "frame of " + std::to_string(f.size()) + " bytes, want " +
						 std::to_string(want_size));
		return;
	}
	if (f.size() != want_size)
		o.bad("frame size", "frame of " + std::to_string(f.size()) + " bytes, want " +
					    std::to_string(want_size) + " (padding " +
					    std::to_string(pad) + ")");
	const auto *eth = reinterpret_cast<const ethhdr *>(f.data());
	if (ntohs(eth->h_proto) != ethertype(outer))
		o.bad("ethertype", "ethertype " + hex(ntohs(eth->h_proto)));
	if (outer == AF_INET) {
		iphdr ip;
		std::memcpy(&ip, f.data() + l3, sizeof(ip));
		if (ip.version != 4 || ip.ihl != 5)
			o.bad("ip version/ihl", "version " + std::to_string(ip.version) + " ihl " +
							std::to_string(ip.ihl));
		if (ntohs(ip.tot_len) != f.size() - l3)
			o.bad("ip tot_len", "tot_len " + std::to_string(ntohs(ip.tot_len)) +
						    ", frame says " +
						    std::to_string(f.size() - l3));
		if (csum_fold(csum_add(0, f.data() + l3, sizeof(iphdr))) != 0)
			o.bad("ip header checksum",
			      "IPv4 header checksum " + hex(ntohs(ip.check)) + " wrong");
		if (ntohs(ip.frag_off) & 0x4000)
			o.bad("DF set", "outer IPv4 has DF set (frag_off 0x4000)");
		if (ntohs(ip.frag_off) & 0x3fff)
			o.bad("fragment bits", "frag_off " + hex(ntohs(ip.frag_off)));
		// Without DF a router may fragment it, and fragments are reassembled by
		// (addresses, protocol, id): back-to-back packets must not share an id.
		if (counters.consecutive && counters.ip_id == ntohs(ip.id))
			o.bad("ip id repeated",
			      "IPv4 id " + hex(ntohs(ip.id)) + " as the packet before");
		counters.ip_id = ntohs(ip.id);
		if (ip.protocol != IPPROTO_UDP || ip.ttl == 0)
			o.bad("ip protocol/ttl", "protocol " + std::to_string(ip.protocol) +
							 " ttl " + std::to_string(ip.ttl));
		if (std::memcmp(&ip.saddr, src.bytes.data(), 4) ||
		    std::memcmp(&ip.daddr, dst.bytes.data(), 4))
			o.bad("ip addresses", "outer IPv4 addresses are not the endpoint's");
	} else {
		ipv6hdr ip6;
		std::memcpy(&ip6, f.data() + l3, sizeof(ip6));
		if (ip6.version != 6)
			o.bad("ip version", "version " + std::to_string(ip6.version));
		if (ntohs(ip6.payload_len) != f.size() - l4)
			o.bad("ipv6 payload_len",
			      "payload_len " + std::to_string(ntohs(ip6.payload_len)) +
				      ", frame says " + std::to_string(f.size() - l4));
		if (ip6.nexthdr != IPPROTO_UDP || ip6.hop_limit == 0)
			o.bad("ipv6 nexthdr/hop limit", "nexthdr " + std::to_string(ip6.nexthdr) +
								" hop_limit " +
								std::to_string(ip6.hop_limit));
		if (std::memcmp(&ip6.saddr, src.bytes.data(), 16) ||
		    std::memcmp(&ip6.daddr, dst.bytes.data(), 16))
			o.bad("ip addresses", "outer IPv6 addresses are not the endpoint's");
		counters.ip_id.reset();
	}
	udphdr uh;
	std::memcpy(&uh, f.data() + l4, sizeof(uh));
	if (ntohs(uh.source) != DataplaneLab::kPort || ntohs(uh.dest) != DataplaneLab::kPeerPort)
		o.bad("udp ports", "ports " + std::to_string(ntohs(uh.source)) + " -> " +
					   std::to_string(ntohs(uh.dest)));
	if (ntohs(uh.len) != f.size() - l4)
		o.bad("udp length", "UDP length " + std::to_string(ntohs(uh.len)) +
					    ", frame says " + std::to_string(f.size() - l4));
	uint16_t want_check = expected_udp_check(f, outer, l3, l4);
	if (ntohs(uh.check) != want_check)
		o.bad("udp checksum",
		      "UDP checksum " + hex(ntohs(uh.check)) + ", want " + hex(want_check));

	xwg_msg_data h;
	std::memcpy(&h, f.data() + l4 + kUdp, sizeof(h));
	if (h.header.type != XWG_MSG_DATA)
		o.bad("message type", "type word " + std::to_string(h.header.type));
	if (h.key_idx != DataplaneLab::kRemoteIndex)
		o.bad("receiver index", "receiver index " + std::to_string(h.key_idx));
	const uint64_t counter = h.counter;
	if (!counters.last) {
		if (counter != 0)
			o.bad("counter", "first counter " + std::to_string(counter) + ", want 0");
	} else if (counters.consecutive ? counter != *counters.last + 1
					: counter <= *counters.last) {
		o.bad("counter", "counter " + std::to_string(counter) + " after " +
					 std::to_string(*counters.last));
	}
	counters.last = counter;
	counters.consecutive = true;

	const size_t ct = l4 + kUdp + kDataHeader;
	Bytes plain(f.size() - ct - kTag);
	auto nonce = data_nonce(counter);
	unsigned long long plain_len = 0;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr,
						      f.data() + ct, f.size() - ct, nullptr, 0,
						      nonce.data(), lab.send_key.data()) != 0) {
		o.bad("decrypt", "libsodium cannot open the message");
		return;
	}
	if (plain.size() < len || !std::equal(inner.begin(), inner.end(), plain.begin())) {
		size_t at = 0;
		while (at < std::min(len, plain.size()) && plain[at] == inner[at])
			at++;
		o.bad("plaintext", "plaintext of " + std::to_string(plain.size()) +
					   " bytes differs from the inner packet at byte " +
					   std::to_string(at));
		return;
	}
	if (plain.size() != len + pad)
		o.bad("padding length", "padding of " + std::to_string(plain.size() - len) +
						" bytes, want " + std::to_string(pad));
	if (std::any_of(plain.begin() + len, plain.end(), [](uint8_t b) { return b != 0; }))
		o.bad("padding bytes", "padding is not all zero");
}

// In the calling thread's network namespace: the tunnel veth pair (visible tunv, hidden
// tunh) and an underlay veth pair (ulay0 towards the peer, ulay1 its far end), built by
// build_live_devices(). xwg_tx sits on tunh's clsact ingress; frames go in through tunv
// and come out, encrypted, on ulay1.
class LivePath {
public:
	static constexpr auto kWait = std::chrono::milliseconds(500);
	static constexpr int kSilentLimit = 8; // losses without a drop counted: stop trying

	explicit LivePath(int tx_prog_fd)
	{
		tun_ifindex_ = index_of("tunv");
		int hidden = index_of("tunh");
		underlay_ifindex = index_of("ulay0");
		int far = index_of("ulay1");

		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = hidden, .attach_point = BPF_TC_INGRESS);
		int err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST)
			throw std::runtime_error("clsact on tunh: " +
						 std::string(std::strerror(-err)));
		LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = tx_prog_fd);
		if ((err = bpf_tc_attach(&hook, &tc)))
			throw std::runtime_error("xwg_tx on tunh ingress: " +
						 std::string(std::strerror(-err)));

		send_fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); // sends, receives nothing
		cap_fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (send_fd_ < 0 || cap_fd_ < 0)
			throw std::runtime_error("AF_PACKET sockets: " +
						 std::string(std::strerror(errno)));
		sockaddr_ll at{};
		at.sll_family = AF_PACKET;
		at.sll_ifindex = tun_ifindex_;
		if (bind(send_fd_, reinterpret_cast<sockaddr *>(&at), sizeof(at)))
			throw std::runtime_error("bind to tunv: " +
						 std::string(std::strerror(errno)));
		at.sll_protocol = htons(ETH_P_ALL);
		at.sll_ifindex = far;
		if (bind(cap_fd_, reinterpret_cast<sockaddr *>(&at), sizeof(at)))
			throw std::runtime_error("bind to ulay1: " +
						 std::string(std::strerror(errno)));
	}
	~LivePath()
	{
		if (send_fd_ >= 0)
			close(send_fd_);
		if (cap_fd_ >= 0)
			close(cap_fd_);
	}
	LivePath(const LivePath &) = delete;
	LivePath &operator=(const LivePath &) = delete;

	// Sends @frame into tunv. True with @out = the frame that left the underlay; false
	// when @dropped() said the data plane dropped it, or with @error set.
	bool send(const Bytes &frame, const std::function<bool()> &dropped, Bytes &out,
		  std::string &error)
	{
		if (silent_ >= kSilentLimit) {
			error = "not sent: the live path lost " + std::to_string(silent_) +
				" packets in a row without a drop counted";
			return false;
		}
		drain();
		sockaddr_ll to{};
		to.sll_family = AF_PACKET;
		to.sll_ifindex = tun_ifindex_;
		to.sll_protocol = htons(uint16_t(frame[12] << 8 | frame[13]));
		to.sll_halen = 6;
		std::memcpy(to.sll_addr, frame.data(), 6);
		if (sendto(send_fd_, frame.data(), frame.size(), 0,
			   reinterpret_cast<sockaddr *>(&to),
			   sizeof(to)) != static_cast<ssize_t>(frame.size())) {
			error = "AF_PACKET send of " + std::to_string(frame.size()) +
				" bytes into tunv: " + std::strerror(errno);
			return false;
		}
		// The kernel mostly finishes with the frame before sendto() returns: look for it,
		// then for a drop, and only then wait a little.
		const auto deadline = std::chrono::steady_clock::now() + kWait;
		for (int wait_ms = 0; std::chrono::steady_clock::now() < deadline; wait_ms = 1) {
			pollfd p{cap_fd_, POLLIN, 0};
			if (poll(&p, 1, wait_ms) > 0) {
				sockaddr_ll from{};
				socklen_t fl = sizeof(from);
				ssize_t n = recvfrom(cap_fd_, buf_.data(), buf_.size(),
						     MSG_DONTWAIT | MSG_TRUNC,
						     reinterpret_cast<sockaddr *>(&from), &fl);
				if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
					continue;
				if (from.sll_protocol != htons(ETH_P_IP) &&
				    from.sll_protocol != htons(ETH_P_IPV6))
					continue;
				if (static_cast<size_t>(n) > buf_.size()) {
					error = "frame of " + std::to_string(n) +
						" bytes on the underlay";
					return false;
				}
				out.assign(buf_.begin(), buf_.begin() + n);
				silent_ = 0;
				return true;
			}
			if (dropped()) {
				silent_ = 0;
				return false;
			}
		}
		silent_++;
		error = "nothing left the underlay within 500 ms and no drop was counted";
		return false;
	}

	int underlay_ifindex = 0;

private:
	static int index_of(const char *name)
	{
		int i = static_cast<int>(if_nametoindex(name));
		if (!i)
			throw std::runtime_error(std::string("no device ") + name +
						 " in the namespace");
		return i;
	}
	void drain()
	{
		while (recv(cap_fd_, buf_.data(), buf_.size(), MSG_DONTWAIT) > 0) {
		}
	}

	int send_fd_ = -1, cap_fd_ = -1, tun_ifindex_ = 0;
	int silent_ = 0;
	std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
};

const Mac kPeerMac{0x02, 0x77, 0x67, 0, 0, 0x0c};

void build_live_devices(const xwg::lab::Netns &ns, const DataplaneLab &lab)
{
	auto mac = [](const Mac &m) {
		char s[18];
		std::snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			      m[4], m[5]);
		return std::string(s);
	};
	// The tunnel at the largest MTU the data plane seals; the underlay wider still, so
	// only xwg_tx decides what gets through. Quiet: no ARP on the tunnel, no IPv6
	// link-local addresses anywhere, fixed neighbours for the peer's endpoint.
	ns.in("ip link add tunv type veth peer name tunh");
	ns.in("ip link add ulay0 type veth peer name ulay1");
	for (const char *dev : {"tunv", "tunh", "ulay0", "ulay1"})
		ns.in(std::string("ip link set ") + dev + " addrgenmode none");
	ns.in("ip link set tunv address " + mac(lab.tunnel_mac) + " mtu 9000 arp off up");
	ns.in("ip link set tunh address " + mac(lab.hidden_mac) + " mtu 9000 arp off up");
	ns.in("ip link set ulay0 mtu 9216 up");
	ns.in("ip link set ulay1 mtu 9216 up");
	ns.in("ip neigh replace 198.51.100.2 lladdr " + mac(kPeerMac) + " dev ulay0 nud permanent");
	ns.in("ip -6 neigh replace 2001:db8:ff::2 lladdr " + mac(kPeerMac) +
	      " dev ulay0 nud permanent");
}

struct TxSweep {
	DataplaneLab &lab;
	LivePath live;
	CounterTrack counters;
	size_t test_run_refused = SIZE_MAX; // smallest frame BPF_PROG_TEST_RUN refused
	size_t live_packets = 0;

	explicit TxSweep(DataplaneLab &l) : lab(l), live(l.dp.tx_prog_fd()) {}

	// The peer's endpoint over @outer, on ulay0, the peer's address as next hop.
	void use_endpoint(int outer)
	{
		const Addr &remote = outer == AF_INET ? lab.peer4 : lab.peer6;
		lab.set_endpoint(remote, outer == AF_INET ? lab.local4 : lab.local6,
				 live.underlay_ifindex);
		xwg_endpoint ep = lab.endpoint();
		std::memcpy(ep.nexthop.v6, remote.bytes.data(), 16);
		DataplaneLab::require(lab.dp.set_endpoint(DataplaneLab::kPeer, ep).has_value(),
				      "endpoint");
	}

	void one(Report &rep, size_t mtu, int outer, int inner_family, size_t len)
	{
		const bool whole = len >= ip_header_len(inner_family);
		Bytes inner = !whole ? truncated_header(lab, inner_family, len)
			      : inner_family == AF_INET
				      ? ip_packet(lab.our_in4, lab.peer_in4, len, uint8_t(len))
				      : ip_packet(lab.our_in6, lab.peer_in6, len, uint8_t(len));
		Bytes frame =
			ethernet(lab.hidden_mac, lab.tunnel_mac, ethertype(inner_family), inner);
		Outcome o;
		const auto before = lab.dp.drops();
		bool sent = false, go_live = frame.size() >= test_run_refused;
		Bytes out;
		if (!go_live) {
			// The kernel refuses frames beyond a page, and ones too short for the
			// IP header their ethertype announces: those take the live path.
			RunResult r;
			int err = try_run_prog(lab.dp.tx_prog_fd(), frame, r);
			if (err == EINVAL) {
				go_live = true;
				if (frame.size() > 1514)
					test_run_refused = frame.size();
			} else if (err) {
				o.bad("test run refused",
				      "BPF_PROG_TEST_RUN refused the " +
					      std::to_string(frame.size()) +
					      "-byte frame: " + std::strerror(err));
			} else if (r.verdict != (whole ? TC_ACT_REDIRECT : TC_ACT_SHOT)) {
				o.bad("verdict",
				      tc_verdict(r.verdict) + ", want " +
					      tc_verdict(whole ? TC_ACT_REDIRECT : TC_ACT_SHOT));
			} else {
				sent = whole;
				out = std::move(r.out);
			}
		}
		if (go_live) {
			std::string error;
			live_packets++;
			sent = live.send(
				frame, [&] { return lab.dp.drops() != before; }, out, error);
			if (!error.empty())
				o.bad("live path", error);
			else if (sent != whole)
				o.bad(sent ? "sent (live)" : "not sent (live)",
				      sent ? "a frame left the underlay"
					   : "dropped on the live path");
		}
		const auto after = lab.dp.drops();
		const std::string moved = drops_moved(before, after);
		if (whole) {
			if (!moved.empty())
				o.bad("drop counted", "a drop was counted");
		} else {
			auto want = before;
			want[XWG_DROP_TX_NOT_IP]++;
			if (after != want)
				o.bad("drops", "want exactly tx_not_ip+1");
		}
		if (sent && whole)
			check_sent_frame(lab, out, outer, inner, mtu, counters, o);
		else
			counters.consecutive = false;
		rep.add(len, outer, inner_family, o, moved);
	}
};

// ---- RX ---------------------------------------------------------------------------------

struct RxSweep {
	DataplaneLab &lab;
	uint64_t counter = 0;

	void one(Report &rep, size_t mtu, int outer, int inner_family, size_t len)
	{
		Bytes inner = inner_family == AF_INET
				      ? ip_packet(lab.peer_in4, lab.our_in4, len, uint8_t(len))
				      : ip_packet(lab.peer_in6, lab.our_in6, len, uint8_t(len));
		Bytes plain = inner;
		plain.resize(len + reference_padding(len, mtu), 0);
		const Addr &from = outer == AF_INET ? lab.peer4 : lab.peer6;
		const Addr &to = outer == AF_INET ? lab.local4 : lab.local6;
		Bytes frame = udp_frame(
			from, DataplaneLab::kPeerPort, to, DataplaneLab::kPort,
			data_message(DataplaneLab::kIndex, counter++, lab.recv_key, plain, false));
		Outcome o;
		const auto before = lab.dp.drops();
		RunResult r;
		int err = try_run_prog(lab.dp.rx_prog_fd(), frame, r);
		const auto after = lab.dp.drops();
		const std::string moved = drops_moved(before, after);
		if (err) {
			o.bad("test run refused", "BPF_PROG_TEST_RUN refused the " +
							  std::to_string(frame.size()) +
							  "-byte frame: " + std::strerror(err));
		} else if (r.verdict != XDP_REDIRECT) {
			o.bad("verdict", xdp_verdict(r.verdict) + ", want XDP_REDIRECT");
		} else {
			Bytes want = ethernet(lab.tunnel_mac, lab.hidden_mac,
					      ethertype(inner_family), inner);
			if (r.out.size() != want.size()) {
				o.bad("output size", "output of " + std::to_string(r.out.size()) +
							     " bytes, want " +
							     std::to_string(want.size()));
			} else if (r.out != want) {
				auto diff = std::mismatch(r.out.begin(), r.out.end(), want.begin());
				o.bad("output bytes",
				      "output differs at byte " +
					      std::to_string(diff.first - r.out.begin()));
			}
		}
		if (!err && !moved.empty())
			o.bad("drop counted", "a drop was counted");
		rep.add(len, outer, inner_family, o, moved);
	}
};

void set_mtu(DataplaneLab &lab, unsigned mtu)
{
	auto cfg = lab.dp.config();
	DataplaneLab::require(cfg.has_value(), "config lookup");
	cfg->mtu = mtu;
	DataplaneLab::require(lab.dp.set_config(*cfg), "config");
}

double seconds_since(std::chrono::steady_clock::time_point t0)
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

TEST_CASE("mtu sweep: the padding model here and xwg_padded_len agree")
{
	// The model on cases worked by hand.
	CHECK(reference_padding(1, 1420) == 15);
	CHECK(reference_padding(16, 1420) == 0);
	CHECK(reference_padding(1405, 1420) == 3);
	CHECK(reference_padding(1410, 1420) == 10); // 1424 would pass the MTU: 1420
	CHECK(reference_padding(1420, 1420) == 0);
	CHECK(reference_padding(1409, 1421) == 12); // 1424 capped at 1421
	CHECK(reference_padding(1421, 1421) == 0);
	CHECK(reference_padding(8913, 8920) == 7);
	CHECK(reference_padding(1281, 1280) == 15); // beyond one MTU: the last unit counts

	size_t disagree = 0;
	std::string first;
	for (unsigned mtu : kMtus) {
		for (size_t len = 0; len <= mtu; len++) {
			size_t want = len + reference_padding(len, mtu);
			size_t got = xwg_padded_len(static_cast<unsigned>(len), mtu);
			if (got != want && disagree++ == 0)
				first = "L=" + std::to_string(len) + " mtu=" + std::to_string(mtu) +
					": xwg_padded_len " + std::to_string(got) + ", model " +
					std::to_string(want);
		}
	}
	INFO(first);
	CHECK(disagree == 0);
}

TEST_CASE("mtu sweep: xwg_tx seals every inner length up to the MTU exactly")
{
	namespace lab_ns = xwg::lab;
	lab_ns::require_tool("ip");
	lab_ns::remove_stale_namespaces("xwgS");
	lab_ns::Netns ns("xwgS" + lab_ns::PID);
	DataplaneLab lab;
	build_live_devices(ns, lab);

	const auto t0 = std::chrono::steady_clock::now();
	struct Result {
		std::vector<Report> reports;
		size_t live_packets = 0, test_run_refused = SIZE_MAX;
	};
	Result res = ns.with([&] {
		Result out;
		TxSweep sweep(lab);
		for (unsigned mtu : kMtus) {
			set_mtu(lab, mtu);
			Report rep;
			rep.direction = "tx";
			rep.mtu = mtu;
			for (int outer : {AF_INET, AF_INET6}) {
				sweep.use_endpoint(outer);
				for (int inner : {AF_INET, AF_INET6})
					for (size_t len = 1; len <= mtu; len++)
						sweep.one(rep, mtu, outer, inner, len);
			}
			out.reports.push_back(std::move(rep));
		}
		out.live_packets = sweep.live_packets;
		out.test_run_refused = sweep.test_run_refused;
		return out;
	});
	INFO("tx sweep: " << seconds_since(t0) << " s, " << res.live_packets
			  << " packets on the live path (BPF_PROG_TEST_RUN refused TC frames from "
			  << res.test_run_refused << " bytes)");
	for (const auto &rep : res.reports) {
		CHECK(rep.packets == 4 * rep.mtu);
		if (rep.failed)
			FAIL_CHECK(rep.text());
	}
}

TEST_CASE("mtu sweep: xwg_rx delivers every inner length up to the MTU exactly")
{
	DataplaneLab lab;
	RxSweep sweep{lab};
	const auto t0 = std::chrono::steady_clock::now();
	std::vector<Report> reports;
	for (unsigned mtu : kMtus) {
		set_mtu(lab, mtu);
		Report rep;
		rep.direction = "rx";
		rep.mtu = mtu;
		for (int outer : {AF_INET, AF_INET6})
			for (int inner : {AF_INET, AF_INET6})
				for (size_t len = ip_header_len(inner); len <= mtu; len++)
					sweep.one(rep, mtu, outer, inner, len);
		reports.push_back(std::move(rep));
	}
	INFO("rx sweep: " << seconds_since(t0) << " s");
	for (const auto &rep : reports) {
		CHECK(rep.packets ==
		      4 * rep.mtu - 2 * (sizeof(iphdr) - 1) - 2 * (sizeof(ipv6hdr) - 1));
		if (rep.failed)
			FAIL_CHECK(rep.text());
	}
}
