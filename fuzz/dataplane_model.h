// dataplane_model.h — the reference model dataplane_fuzz holds xwg_rx, xwg_rx_tc and xwg_tx to:
// for any frame, what the program must answer (verdict, drop reason, the frame that
// leaves, what reaches the daemon) given the lab's peers and the keypair and endpoint the
// model tracks. It is written from WireGuard's rules and the data plane's documented
// parsing (README, include/xwg/, bpf/lib/parse.h's contract), not from the programs:
// libsodium decides authentication, and the replay window is the plain "seen set within
// WINDOW of the greatest" rule rather than RFC 6479's bitmap.
#pragma once

#include "dataplane_lab.h"

#include <linux/pkt_cls.h>

#include <optional>
#include <set>

namespace xwgfuzz {

using namespace xwgtest;

enum class Hook { xdp, tc }; // xwg_rx and xwg_rx_tc: the same receive path on two hooks

enum class Verdict { refused, pass, drop, redirect }; // refused: the kernel's test run said EINVAL

inline const char *to_string(Verdict v)
{
	switch (v) {
	case Verdict::refused:
		return "refused by BPF_PROG_TEST_RUN";
	case Verdict::pass:
		return "pass";
	case Verdict::drop:
		return "drop";
	case Verdict::redirect:
		return "redirect";
	}
	return "?";
}

// What a program must do with one frame.
struct Outcome {
	Verdict verdict = Verdict::refused;
	int reason = -1; // the drop reason counted, with Verdict::drop
	Bytes out;	 // redirect: the frame that leaves (TC RX: its start, see rx_out_len)
	size_t out_len = 0;
	bool authentic = false; // RX: the message opened with the keypair's receive key
	Bytes staged;		// TX: the inner packet the staged ring must carry
	uint32_t staged_type = 0;
	bool may_refuse = false; // TC: a test run may refuse it (see short_ip_for_tc)
};

// Linux 6.18's test run refuses a TC frame whose EtherType says IPv4 or IPv6 but that is
// shorter than that IP header (older kernels run the program): either answer is right.
inline bool short_ip_for_tc(const Bytes &f)
{
	if (f.size() < 14)
		return false;
	const uint16_t proto = static_cast<uint16_t>(f[12] << 8 | f[13]);
	return (proto == ETH_P_IP && f.size() < 14 + 20) ||
	       (proto == ETH_P_IPV6 && f.size() < 14 + 40);
}

// The state the programs keep that the model must follow.
enum class KeyState { live, retired, expired, absent };

// An IPv4 or IPv6 address of @len bytes at @p, as the lab's Addr.
inline Addr addr_at(int family, const uint8_t *p)
{
	Addr a;
	a.family = family;
	std::memcpy(a.bytes.data(), p, family == AF_INET ? 4 : 16);
	return a;
}

inline uint16_t be16_at(const Bytes &b, size_t off)
{
	return static_cast<uint16_t>(b[off] << 8 | b[off + 1]);
}

template <class T> T le_at(const Bytes &b, size_t off)
{
	T v;
	std::memcpy(&v, b.data() + off, sizeof(v)); // the data plane's hosts are little-endian
	return v;
}

// The peer that owns @a in the lab's allowed IPs (DataplaneLab's constructor), or 0.
inline uint32_t owner_of(const Addr &a)
{
	const uint8_t *b = a.bytes.data();
	if (a.family == AF_INET) {
		if (b[0] == 192 && b[1] == 0 && b[2] == 2)
			return DataplaneLab::kPeer;
		if (b[0] == 203 && b[1] == 0 && b[2] == 113)
			return DataplaneLab::kOtherPeer;
		return 0;
	}
	static const uint8_t v6[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01}; // 2001:db8:1::/48
	return std::memcmp(b, v6, 6) == 0 ? DataplaneLab::kPeer : 0;
}

struct Model {
	KeyState keys = KeyState::live;
	Key recv_key{}, send_key{};
	uint64_t next_send = 0;		// the counter xwg_tx takes next
	uint64_t greatest = 0;		// one past the greatest counter accepted; 0: none
	std::set<uint64_t> seen;	// counters accepted, pruned to the window
	xwg_endpoint ep{};		// the peer's endpoint as the data plane must hold it
	unsigned xdp_ifindex = 0;	// what an XDP test run reports as ingress (loopback)
	Mac tunnel_mac{}, hidden_mac{}; // what xwg_rx writes into a delivered frame
	uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
	bool roamed = false; // the last RX frame moved the endpoint

	// A fresh keypair (replay window empty, send counter from zero).
	void new_keys(const Key &recv, const Key &send, KeyState state)
	{
		recv_key = recv;
		send_key = send;
		keys = state;
		next_send = 0;
		greatest = 0;
		seen.clear();
	}

	bool replay_fresh(uint64_t counter) const
	{
		if (counter + 1 + XWG_REPLAY_WINDOW < greatest)
			return false;
		return !seen.count(counter);
	}

	void replay_commit(uint64_t counter)
	{
		seen.insert(counter);
		greatest = std::max(greatest, counter + 1);
		while (!seen.empty() && *seen.begin() + 1 + XWG_REPLAY_WINDOW < greatest)
			seen.erase(seen.begin());
	}

	// Roaming (whitepaper §2.1): an authenticated packet from elsewhere moves the endpoint.
	void roam(int family, const uint8_t *saddr, const uint8_t *daddr, uint16_t sport_be,
		  unsigned ifindex)
	{
		const size_t n = family == AF_INET ? 4 : 16;
		const uint16_t fam = family == AF_INET ? XWG_AF_INET : XWG_AF_INET6;
		if (ep.family == fam && ep.port == sport_be && !std::memcmp(ep.addr.v6, saddr, n) &&
		    !std::memcmp(ep.src.v6, daddr, n))
			return;
		ep = xwg_endpoint{};
		ep.family = fam;
		ep.port = sport_be;
		ep.ifindex = ifindex;
		std::memcpy(ep.addr.v6, saddr, n);
		std::memcpy(ep.src.v6, daddr, n);
		roamed = true;
	}

	static Outcome drop(int reason)
	{
		Outcome o;
		o.verdict = Verdict::drop;
		o.reason = reason;
		return o;
	}

	// xwg_rx (XDP) or xwg_rx_tc over @f.
	Outcome rx(const Bytes &f, Hook hook)
	{
		Outcome o = rx_verdict(f, hook);
		o.may_refuse = hook == Hook::tc && short_ip_for_tc(f);
		return o;
	}

	// xwg_tx over @f (an Ethernet frame from the tunnel device).
	Outcome tx(const Bytes &f)
	{
		Outcome o = tx_verdict(f);
		o.may_refuse = short_ip_for_tc(f);
		return o;
	}

private:
	Outcome rx_verdict(const Bytes &f, Hook hook)
	{
		roamed = false;
		Outcome pass;
		pass.verdict = Verdict::pass;
		pass.out = f;
		if (f.size() < sizeof(ethhdr))
			return Outcome{};
		const uint16_t proto = be16_at(f, 12);
		int family;
		size_t l4;
		if (proto == ETH_P_IP) {
			if (f.size() < 34 || f[14 + 9] != IPPROTO_UDP)
				return pass;
			if ((f[14] >> 4) != 4 || (f[14] & 0x0f) != 5 || (be16_at(f, 14 + 6) & 0x3fff))
				return pass; // not IPv4, options or a fragment: the stack's business
			family = AF_INET;
			l4 = 34;
		} else if (proto == ETH_P_IPV6) {
			if (f.size() < 54 || (f[14] >> 4) != 6 || f[14 + 6] != IPPROTO_UDP)
				return pass;
			family = AF_INET6;
			l4 = 54;
		} else {
			return pass;
		}
		if (f.size() < l4 + 8 || be16_at(f, l4 + 2) != DataplaneLab::kPort)
			return pass;
		const size_t udp_len = be16_at(f, l4 + 4);
		if (udp_len < 8 + 4)
			return drop(XWG_DROP_BAD_LENGTH);
		const size_t msg_off = l4 + 8, msg_len = udp_len - 8;
		if (msg_off + msg_len > f.size())
			return drop(XWG_DROP_BAD_LENGTH);
		switch (le_at<uint32_t>(f, msg_off)) {
		case XWG_MSG_DATA:
			break;
		case XWG_MSG_HANDSHAKE_INITIATION:
			return msg_len == XWG_MSG_INITIATION_LEN ? pass : drop(XWG_DROP_BAD_LENGTH);
		case XWG_MSG_HANDSHAKE_RESPONSE:
			return msg_len == XWG_MSG_RESPONSE_LEN ? pass : drop(XWG_DROP_BAD_LENGTH);
		case XWG_MSG_HANDSHAKE_COOKIE:
			return msg_len == XWG_MSG_COOKIE_LEN ? pass : drop(XWG_DROP_BAD_LENGTH);
		default:
			return drop(XWG_DROP_BAD_TYPE);
		}

		if (msg_len < XWG_MSG_DATA_MIN_LEN)
			return drop(XWG_DROP_BAD_LENGTH);
		const uint32_t index = le_at<uint32_t>(f, msg_off + 4);
		const uint64_t counter = le_at<uint64_t>(f, msg_off + 8);
		if (index != DataplaneLab::kIndex || keys == KeyState::absent)
			return drop(XWG_DROP_UNKNOWN_INDEX);
		if (keys == KeyState::retired)
			return drop(XWG_DROP_KEYPAIR_RETIRED);
		if (keys == KeyState::expired)
			return drop(XWG_DROP_KEYPAIR_EXPIRED);
		if (counter >= XWG_REJECT_AFTER_MESSAGES)
			return drop(XWG_DROP_COUNTER_LIMIT);
		if (!replay_fresh(counter))
			return drop(XWG_DROP_REPLAYED);
		Bytes msg(f.begin() + msg_off, f.begin() + msg_off + msg_len), plain;
		if (!open_data_message(msg, recv_key, plain))
			return drop(XWG_DROP_AUTH_FAILED);
		replay_commit(counter);

		Outcome o = inner_checks(plain);
		o.authentic = true;
		if (o.verdict == Verdict::drop && o.reason != XWG_DROP_KEEPALIVE)
			return o;
		// Counted and roamed only now: an unauthorised inner packet is no traffic.
		rx_packets++;
		rx_bytes += msg_len;
		const uint8_t *ip = f.data() + 14;
		roam(family, family == AF_INET ? ip + 12 : ip + 8,
		     family == AF_INET ? ip + 16 : ip + 24, le_at<uint16_t>(f, l4),
		     hook == Hook::xdp ? xdp_ifindex : 0);
		if (o.verdict == Verdict::redirect && hook == Hook::tc) {
			// adjust_room leaves at least the outer IP header's length after Ethernet
			// (l4 - 14 bytes); the IP layer trims the rest by the inner length.
			o.out_len = std::max(o.out.size(), l4);
		}
		return o;
	}

	// After authentication: the decrypted packet's own checks and what is delivered.
	Outcome inner_checks(const Bytes &p) const
	{
		if (p.empty())
			return drop(XWG_DROP_KEEPALIVE);
		Outcome o;
		size_t len;
		Addr src;
		uint16_t proto;
		if (p[0] >> 4 == 4) {
			if (p.size() < 20)
				return drop(XWG_DROP_INNER_LENGTH);
			len = be16_at(p, 2);
			if (len < 20 || len > p.size())
				return drop(XWG_DROP_INNER_LENGTH);
			src = addr_at(AF_INET, p.data() + 12);
			proto = ETH_P_IP;
		} else if (p[0] >> 4 == 6) {
			if (p.size() < 40)
				return drop(XWG_DROP_INNER_LENGTH);
			len = 40 + be16_at(p, 4);
			if (len > p.size())
				return drop(XWG_DROP_INNER_LENGTH);
			src = addr_at(AF_INET6, p.data() + 8);
			proto = ETH_P_IPV6;
		} else {
			return drop(XWG_DROP_INNER_NOT_IP);
		}
		if (owner_of(src) != DataplaneLab::kPeer)
			return drop(XWG_DROP_INNER_SRC_NOT_ALLOWED);
		o.verdict = Verdict::redirect;
		o.out = ethernet(tunnel_mac, hidden_mac, proto, Bytes(p.begin(), p.begin() + len));
		o.out_len = o.out.size();
		return o;
	}

	Outcome tx_verdict(const Bytes &f)
	{
		if (f.size() < sizeof(ethhdr))
			return Outcome{};
		// The test run sets skb->protocol as eth_type_trans() does: 802.3 lengths are no
		// IP.
		const uint16_t proto = be16_at(f, 12);
		if (f.size() < 14 + 20)
			return drop(XWG_DROP_TX_NOT_IP);
		const uint8_t version = f[14] >> 4;
		size_t inner_len;
		Addr dst;
		if (version == 4 && proto == ETH_P_IP) {
			inner_len = be16_at(f, 14 + 2);
			if (inner_len < 20)
				return drop(XWG_DROP_TX_NOT_IP);
			dst = addr_at(AF_INET, f.data() + 14 + 16);
		} else if (version == 6 && proto == ETH_P_IPV6) {
			if (f.size() < 14 + 40)
				return drop(XWG_DROP_TX_NOT_IP);
			inner_len = 40 + be16_at(f, 14 + 4);
			dst = addr_at(AF_INET6, f.data() + 14 + 24);
		} else {
			return drop(XWG_DROP_TX_NOT_IP);
		}
		if (inner_len > f.size() - 14)
			return drop(XWG_DROP_TX_NOT_IP);
		const uint32_t peer = owner_of(dst);
		if (!peer)
			return drop(XWG_DROP_NO_PEER);
		const Bytes inner(f.begin() + 14, f.begin() + 14 + inner_len);
		auto to_daemon = [&](uint32_t type, int reason) {
			Outcome o = drop(reason);
			o.staged = inner;
			o.staged_type = type;
			return o;
		};
		// The other peer never has a keypair; ours may not either.
		if (peer != DataplaneLab::kPeer || keys != KeyState::live)
			return to_daemon(XWG_EVENT_STAGED_PACKET, XWG_DROP_STAGED);
		if (ep.family != XWG_AF_INET && ep.family != XWG_AF_INET6)
			return drop(XWG_DROP_NO_ENDPOINT);
		if (ep.ifindex && ep.ifindex != DataplaneLab::kUnderlayIfindex)
			return drop(XWG_DROP_TX_NOT_UNDERLAY);
		if (!ep.ifindex) // the FIB, asked from the underlay, which this namespace lacks
			return drop(XWG_DROP_NO_ROUTE);
		const size_t padded = xwg_padded_len(inner_len, 1420);
		const size_t l3 = ep.family == XWG_AF_INET ? 20 : 40;
		const size_t msg_len = 16 + padded + 16;
		if (ep.path_mtu && l3 + 8 + msg_len > ep.path_mtu)
			return to_daemon(XWG_EVENT_OVERSIZE_PACKET, XWG_DROP_TX_TO_DAEMON_OVERSIZE);
		const uint64_t counter = next_send++;
		if (counter >= XWG_REJECT_AFTER_MESSAGES)
			return to_daemon(XWG_EVENT_STAGED_PACKET, XWG_DROP_STAGED);

		Bytes plain = inner;
		plain.resize(padded, 0);
		const int fam = ep.family == XWG_AF_INET ? AF_INET : AF_INET6;
		const Addr from = addr_at(fam, ep.src.v6), to = addr_at(fam, ep.addr.v6);
		Mac dst_mac, src_mac;
		std::memcpy(dst_mac.data(), f.data(), 6);
		std::memcpy(src_mac.data(), f.data() + 6, 6);
		Outcome o;
		o.verdict = Verdict::redirect;
		o.out = udp_frame(
			dst_mac, src_mac, from, DataplaneLab::kPort, to, ntohs(ep.port),
			data_message(DataplaneLab::kRemoteIndex, counter, send_key, plain, false));
		if (fam == AF_INET) { // the IP id is the counter offset by the peer's index
			const uint16_t id =
				static_cast<uint16_t>(counter + DataplaneLab::kRemoteIndex);
			o.out[14 + 4] = id >> 8;
			o.out[14 + 5] = id & 0xff;
			o.out[14 + 10] = o.out[14 + 11] = 0;
			const uint16_t check = csum_fold(csum_add(0, o.out.data() + 14, 20));
			o.out[14 + 10] = check >> 8;
			o.out[14 + 11] = check & 0xff;
		}
		o.out_len = o.out.size();
		tx_packets++;
		tx_bytes += msg_len;
		return o;
	}
};

} // namespace xwgfuzz
