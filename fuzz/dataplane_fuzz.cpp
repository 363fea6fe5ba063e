// dataplane_fuzz — random and mutated frames through the real data plane (xwg_rx on XDP,
// xwg_rx_tc, xwg_tx) by BPF_PROG_TEST_RUN, each checked against dataplane_model.h:
//   dataplane_fuzz [--seed N] [--cases N] [--seconds S]
// A plain seeded driver, not a libFuzzer target: the programs run in the kernel, where no
// coverage can be collected, so guidance would only steer the driver. It builds frames the
// way an attacker and a peer would: valid data messages sealed with the live keys (every
// family, size up to jumbo frames in XDP fragments, fresh, replayed, old, huge counters),
// keepalives, messages sealed with other keys, handshake and bogus types, short messages,
// random bytes, other traffic; then mutates some of them (bit flips, bytes, truncation,
// extension, length and type fields). The keypair moves through its lives (live, nearly
// exhausted, expired, retired, wiped) and the endpoint through roams and resets.
//
// For every frame: the verdict is the model's (and one of the hook's own verdicts), the
// drop counters move by exactly the predicted reason, the frame that leaves is the
// predicted one (delivered inner packet; a sealed packet libsodium opens to the padded
// inner packet, counters never reused), the staged ring carries exactly what must reach the
// daemon, the endpoint moves only with an authenticated packet; and whatever the data
// plane treats as authentic (delivers, or drops only after decrypting) is, byte for byte,
// a message this driver sealed with the keypair's key. The first violation stops the run
// with the seed, the case number and the frame (also written to dataplane_fuzz-case-N.bin).
#include "dataplane_model.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>

using namespace xwgfuzz;
using namespace xwg::protocol;

namespace {

// Largest frames per hook: XDP takes jumbo frames (beyond ~3.5 KB the test run hands
// them over in fragments, as multi-buffer XDP does); a TC test skb is at most a page.
constexpr size_t kXdpMaxFrame = 9100;
constexpr size_t kTcMaxFrame = 3500;

// One generated frame and what the driver knows about how it was built.
struct Case {
	Bytes frame;
	std::string what; // how it was built, for a failure report
	Bytes sealed;	  // the data message sealed with the live receive key, if any
	size_t sealed_off = 0;
	size_t udp_len_off = 0;
};

class Fuzzer {
public:
	explicit Fuzzer(uint64_t seed) : seed_(seed), rng_(seed)
	{
		model_.xdp_ifindex = private_loopback();
		model_.tunnel_mac = lab_.tunnel_mac;
		model_.hidden_mac = lab_.hidden_mac;
		new_epoch();
	}

	void one_case()
	{
		if (case_ == epoch_end_)
			new_epoch();
		const unsigned pick = below(100);
		if (pick < 55)
			rx_case(Hook::xdp);
		else if (pick < 70)
			rx_case(Hook::tc);
		else
			tx_case();
		case_++;
	}

	uint64_t cases() const { return case_; }

	void summary() const
	{
		for (const auto &[what, n] : tally_)
			std::printf("  %-44s %10" PRIu64 "\n", what.c_str(), n);
	}

private:
	// --- randomness ----------------------------------------------------------------
	uint64_t below(uint64_t n) { return n ? rng_() % n : 0; }
	bool chance(unsigned percent) { return below(100) < percent; }

	Bytes random_bytes(size_t n)
	{
		Bytes b(n);
		for (auto &x : b)
			x = static_cast<uint8_t>(rng_());
		return b;
	}

	Key random_key()
	{
		Key k;
		for (auto &x : k)
			x = static_cast<uint8_t>(rng_());
		return k;
	}

	// Small sizes most of the time, then MTU-sized ones, now and then up to @max.
	size_t pick_len(size_t max)
	{
		const unsigned r = below(10);
		size_t n = r < 5 ? below(129) : r < 8 ? 128 + below(1400) : below(max + 1);
		return std::min(n, max);
	}

	Addr in_prefix(const char *base, size_t fixed_bytes)
	{
		Addr a = addr(base);
		for (size_t i = fixed_bytes; i < a.len(); i++)
			a.bytes[i] = static_cast<uint8_t>(rng_());
		return a;
	}

	// --- the keypair's lives and the endpoint ------------------------------------------
	void set_endpoint(bool v6, uint32_t path_mtu)
	{
		xwg_endpoint ep{};
		ep.family = v6 ? XWG_AF_INET6 : XWG_AF_INET;
		ep.port = htons(DataplaneLab::kPeerPort);
		ep.ifindex = DataplaneLab::kUnderlayIfindex;
		std::memcpy(ep.addr.v6, (v6 ? lab_.peer6 : lab_.peer4).bytes.data(), 16);
		std::memcpy(ep.src.v6, (v6 ? lab_.local6 : lab_.local4).bytes.data(), 16);
		ep.path_mtu = path_mtu;
		DataplaneLab::require(lab_.dp.set_endpoint(DataplaneLab::kPeer, ep).has_value(),
				      "endpoint");
		model_.ep = ep;
	}

	void new_epoch()
	{
		check_stats();
		lab_.recv_key = random_key();
		lab_.send_key = random_key();
		const unsigned r = below(100);
		const uint64_t now = boottime_ns();
		const uint64_t reject = to_ns(reject_after_time);
		KeyState state = KeyState::live;
		if (r >= 86 && r < 93 && now > reject + 2000000000ull) {
			lab_.install_keypair(now - reject - 1000000000ull);
			state = KeyState::expired;
		} else {
			lab_.install_keypair(now, chance(50) ? XWG_KEYPAIR_INITIATOR : 0);
		}
		model_.new_keys(lab_.recv_key, lab_.send_key, state);
		if (r >= 70 && r < 78) { // a few counters before REJECT_AFTER_MESSAGES
			model_.next_send = XWG_REJECT_AFTER_MESSAGES - below(8);
			lab_.dp.reset_send_counter(DataplaneLab::kSlot, model_.next_send);
		} else if (r >= 93 && r < 97) {
			lab_.dp.retire_keypair(DataplaneLab::kSlot);
			model_.keys = KeyState::retired;
		} else if (r >= 97) {
			lab_.remove_keypair();
			model_.keys = KeyState::absent;
		}
		static const uint32_t mtus[] = {0, 0, 0, 1280, 1500, 9000};
		set_endpoint(chance(40), mtus[below(6)]);
		epoch_end_ = case_ + 500 + below(5000);
	}

	// The daemon's and the data plane's own accounts agree with the model.
	void check_stats()
	{
		auto st = lab_.dp.peer_stats(DataplaneLab::kPeer);
		if (st.rx_packets != model_.rx_packets || st.rx_bytes != model_.rx_bytes ||
		    st.tx_packets != model_.tx_packets || st.tx_bytes != model_.tx_bytes) {
			std::fprintf(
				stderr,
				"dataplane_fuzz: seed %" PRIu64 ", before case %" PRIu64
				": peer stats rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64 "/%" PRIu64
				", model rx %" PRIu64 "/%" PRIu64 " tx %" PRIu64 "/%" PRIu64 "\n",
				seed_, case_, uint64_t(st.rx_packets), uint64_t(st.rx_bytes),
				uint64_t(st.tx_packets), uint64_t(st.tx_bytes), model_.rx_packets,
				model_.rx_bytes, model_.tx_packets, model_.tx_bytes);
			std::exit(1);
		}
	}

	// --- receive ---------------------------------------------------------------------
	uint64_t pick_counter()
	{
		const uint64_t g = model_.greatest, w = XWG_REPLAY_WINDOW;
		const unsigned r = below(100);
		if (r < 70)
			return g + below(3); // fresh, perhaps skipping a few
		if (r < 74)
			return g + w + below(1000); // moves the window a long way
		if (r < 84)
			return g - 1 -
			       below(std::min<uint64_t>(g, 64) + 1); // recent: mostly replays
		if (r < 90)
			return g > w + 1 ? g - w - 2 - below(100) : below(4); // left the window
		if (r < 96)
			return g > w + 2 ? g - w - 3 + below(4) : g; // the window's edge
		if (r < 97 && case_ + 200 > epoch_end_) // the limit: once accepted, only
			return XWG_REJECT_AFTER_MESSAGES - 2 + below(4); // COUNTER_LIMIT follows
		return rng_() >> below(64);
	}

	// An inner packet from the peer's side: mostly from its allowed IPs.
	Bytes rx_inner(size_t max_len, std::string &what)
	{
		const bool v6 = chance(50);
		const size_t l3 = v6 ? 40 : 20;
		Addr src = v6 ? in_prefix("2001:db8:1::", 6) : in_prefix("192.0.2.0", 3);
		const unsigned r = below(100);
		if (r < 6)
			src = v6 ? in_prefix("2001:db8:2::", 6) : in_prefix("203.0.113.0", 3);
		else if (r < 10)
			src = v6 ? in_prefix("fd00::", 1) : in_prefix("198.18.0.0", 1);
		const Addr dst = v6 ? lab_.our_in6 : lab_.our_in4;
		Bytes p = ip_packet(src, dst, std::max(l3, pick_len(max_len)),
				    static_cast<uint8_t>(rng_()));
		what += v6 ? " inner v6" : " inner v4";
		const unsigned lie = below(100);
		if (lie < 4) { // not IP at all
			p[0] = static_cast<uint8_t>((below(14) + (below(2) ? 7 : 0)) << 4 |
						    (p[0] & 15));
			what += " (not IP)";
		} else if (lie < 8) { // a length that does not fit
			const uint16_t bad = static_cast<uint16_t>(
				chance(50) ? p.size() + 1 + below(64) : below(l3));
			p[v6 ? 4 : 2] = bad >> 8;
			p[v6 ? 5 : 3] = bad & 0xff;
			what += " (length lies)";
		} else if (lie < 10) {
			p.resize(below(l3));
			what += " (truncated)";
		}
		return p;
	}

	Case rx_frame(Hook hook)
	{
		Case c;
		const size_t cap = hook == Hook::xdp ? kXdpMaxFrame : kTcMaxFrame;
		const bool v6 = chance(40);
		Addr from = v6 ? lab_.peer6 : lab_.peer4;
		const Addr to = v6 ? lab_.local6 : lab_.local4;
		uint16_t sport = DataplaneLab::kPeerPort;
		if (chance(15)) { // from elsewhere: roaming, if it authenticates
			from = v6 ? in_prefix("2001:db8:ff::", 8) : in_prefix("198.51.100.0", 3);
			sport = static_cast<uint16_t>(1024 + below(60000));
		}
		const size_t headers = 14 + (v6 ? 40 : 20) + 8;
		const size_t room = cap - headers - XWG_MSG_DATA_MIN_LEN;
		Bytes msg;
		const unsigned kind = below(100);
		if (kind < 50 || kind >= 96) {
			const uint64_t counter = pick_counter();
			const bool right_key = kind < 50;
			Bytes inner = rx_inner(room, c.what);
			if (kind < 50 && chance(12)) {
				inner.clear();
				c.what = " keepalive";
			}
			msg = data_message(DataplaneLab::kIndex, counter,
					   right_key ? lab_.recv_key : random_key(), inner,
					   chance(90));
			c.what = std::string(right_key ? "data" : "data sealed with another key") +
				 c.what + ", counter " + std::to_string(counter);
			if (right_key)
				c.sealed = msg;
		} else if (kind < 60) {
			static const size_t lens[] = {0, XWG_MSG_INITIATION_LEN,
						      XWG_MSG_RESPONSE_LEN, XWG_MSG_COOKIE_LEN};
			const uint32_t type = 1 + static_cast<uint32_t>(below(3));
			size_t len = lens[type];
			if (chance(40))
				len = std::max<size_t>(4, len + below(9) - 4);
			msg = random_bytes(len);
			std::memcpy(msg.data(), &type, 4);
			c.what = "handshake type " + std::to_string(type) + ", " +
				 std::to_string(len) + " bytes";
		} else if (kind < 68) {
			msg = random_bytes(4 + below(100));
			uint32_t type = static_cast<uint32_t>(rng_());
			if (chance(50))
				type = (type & 0xffffff00u) | (1 + below(4)); // reserved bytes set
			std::memcpy(msg.data(), &type, 4);
			c.what = "bogus type";
		} else if (kind < 74) {
			msg = random_bytes(4 + below(28));
			const uint32_t type = XWG_MSG_DATA;
			std::memcpy(msg.data(), &type, 4);
			c.what = "data shorter than a header and tag";
		} else if (kind < 82) {
			c.frame = random_bytes(chance(90) ? below(200) : below(cap + 1));
			if (c.frame.size() >= 14 && chance(70)) {
				c.frame[12] = chance(50) ? 0x08 : 0x86;
				c.frame[13] = c.frame[12] == 0x08 ? 0x00 : 0xdd;
			}
			c.what = "random bytes";
			return c;
		} else if (kind < 88) {
			msg = random_bytes(below(200));
			c.frame = udp_frame(from, sport, to,
					    chance(50) ? 53 : DataplaneLab::kPeerPort, msg);
			c.what = "UDP to another port";
			return c;
		} else {
			// Our port, but IPv4 options, a fragment, or IPv6 with an extension header.
			msg = data_message(DataplaneLab::kIndex, pick_counter(), lab_.recv_key,
					   rx_inner(1000, c.what));
			c.frame = udp_frame(from, sport, to, DataplaneLab::kPort, msg);
			const unsigned how = below(3);
			if (!v6 && how == 0)
				c.frame[14] = 0x46;
			else if (!v6 && how == 1)
				c.frame[14 + 6] |= chance(50) ? 0x20 : 0x01; // MF or an offset
			else
				c.frame[v6 ? 14 + 6 : 14 + 9] =
					chance(50) ? 0 : 44; // hop-by-hop, fragment
			c.what = "not plain UDP to our port" + c.what;
			// Sealed with the live key: a mutation may make it plain again.
			c.sealed = msg;
			c.sealed_off = headers;
			c.udp_len_off = headers - 4;
			return c;
		}
		c.frame = udp_frame(from, sport, to, DataplaneLab::kPort, msg);
		c.sealed_off = headers;
		c.udp_len_off = headers - 4;
		return c;
	}

	// --- mutations --------------------------------------------------------------------
	void mutate(Case &c, size_t cap)
	{
		Bytes &f = c.frame;
		const unsigned n = 1 + static_cast<unsigned>(below(3));
		for (unsigned i = 0; i < n; i++) {
			const unsigned m = below(8);
			if (f.empty() && m != 4)
				continue;
			switch (m) {
			case 0:
				f[below(f.size())] ^= static_cast<uint8_t>(1u << below(8));
				c.what += ", bit flip";
				break;
			case 1: {
				const size_t at = below(std::min<size_t>(f.size(), 96));
				f[at] ^= static_cast<uint8_t>(1u << below(8));
				c.what += ", header bit flip at " + std::to_string(at);
				break;
			}
			case 2:
				f[below(f.size())] = static_cast<uint8_t>(rng_());
				c.what += ", random byte";
				break;
			case 3:
				f.resize(below(f.size()));
				c.what += ", truncated to " + std::to_string(f.size());
				break;
			case 4: {
				Bytes more = random_bytes(1 + below(64));
				f.insert(f.end(), more.begin(), more.end());
				if (f.size() > cap)
					f.resize(cap);
				c.what += ", extended";
				break;
			}
			case 5: { // a 16-bit length or type field of the headers
				static const size_t fields[] = {12, 16, 20, 36, 38, 18, 56, 58};
				const size_t at = fields[below(8)];
				if (at + 2 > f.size())
					break;
				const uint16_t v = static_cast<uint16_t>(
					chance(50) ? be16_at(f, at) + below(65) - 32 : rng_());
				f[at] = v >> 8;
				f[at + 1] = v & 0xff;
				c.what += ", field at " + std::to_string(at) + " = " +
					  std::to_string(v);
				break;
			}
			default: { // the message header: type, receiver index, counter
				const size_t at = c.sealed_off + below(16);
				if (!c.sealed_off || at >= f.size())
					break;
				f[at] = chance(50) ? static_cast<uint8_t>(rng_()) : f[at] ^ 1;
				c.what += ", message header byte " +
					  std::to_string(at - c.sealed_off);
				break;
			}
			}
		}
	}

	// Is the message where this driver put it still exactly the one it sealed?
	bool sealed_intact(const Case &c) const
	{
		const size_t end = c.sealed_off + c.sealed.size();
		return !c.sealed.empty() && c.frame.size() >= end &&
		       be16_at(c.frame, c.udp_len_off) == 8 + c.sealed.size() &&
		       std::equal(c.sealed.begin(), c.sealed.end(), c.frame.begin() + c.sealed_off);
	}

	void rx_case(Hook hook)
	{
		Case c = rx_frame(hook);
		if (chance(35))
			mutate(c, hook == Hook::xdp ? kXdpMaxFrame : kTcMaxFrame);
		const Outcome want = model_.rx(c.frame, hook);
		const int fd = hook == Hook::xdp ? lab_.dp.rx_prog_fd() : lab_.dp.rx_tc_prog_fd();
		const char *prog = hook == Hook::xdp ? "xwg_rx" : "xwg_rx_tc";
		const Actual got = run(fd, c.frame, hook == Hook::xdp);
		compare(prog, c, want, got);
		// Authentic is what this driver sealed, where it sealed it: nothing else may be
		// delivered, or get as far as decryption.
		const bool opened =
			got.verdict == Verdict::redirect ||
			(got.verdict == Verdict::drop &&
			 (got.reason == XWG_DROP_KEEPALIVE || got.reason == XWG_DROP_INNER_NOT_IP ||
			  got.reason == XWG_DROP_INNER_LENGTH ||
			  got.reason == XWG_DROP_INNER_SRC_NOT_ALLOWED));
		if (opened && !sealed_intact(c))
			fail(prog, c, want, got, "a frame this driver did not seal authenticated");
		if (want.authentic && !sealed_intact(c))
			fail(prog, c, want, got,
			     "libsodium opened a message this driver did not seal");
		auto ep = lab_.dp.endpoint(DataplaneLab::kPeer);
		if (!ep || std::memcmp(&ep->ep, &model_.ep, sizeof(xwg_endpoint)) != 0)
			fail(prog, c, want, got, "the endpoint is not the model's (roaming)");
		tally(prog, got);
	}

	// --- transmit ---------------------------------------------------------------------
	Case tx_frame()
	{
		Case c;
		const bool v6 = chance(45);
		const size_t l3 = v6 ? 40 : 20;
		const Addr src = v6 ? lab_.our_in6 : lab_.our_in4;
		Addr dst;
		const unsigned r = below(100);
		if (r < 70) {
			dst = v6 ? in_prefix("2001:db8:1::", 6) : in_prefix("192.0.2.0", 3);
			c.what = "to the peer";
		} else if (r < 80) {
			dst = v6 ? in_prefix("2001:db8:ff::", 6) : in_prefix("203.0.113.0", 3);
			c.what = "to the other peer (or nobody, in IPv6)";
		} else if (r < 88) {
			dst = v6 ? in_prefix("fd00::", 1) : in_prefix("198.18.0.0", 1);
			c.what = "to nobody";
		} else if (r < 94) {
			c.frame = random_bytes(below(200));
			c.what = "random bytes";
			return c;
		} else {
			Mac a{2, 0, 0, 0, 0, 1};
			c.frame = ethernet(a, a,
					   static_cast<uint16_t>(chance(50) ? ETH_P_ARP : rng_()),
					   random_bytes(below(200)));
			c.what = "not IP";
			return c;
		}
		const size_t len = std::max(l3, pick_len(kTcMaxFrame - 14 - 80));
		c.frame = tunnel_frame(ip_packet(src, dst, len, static_cast<uint8_t>(rng_())));
		c.what += std::string(v6 ? " v6 " : " v4 ") + std::to_string(len) + " bytes";
		if (chance(8)) {
			Bytes tail = random_bytes(1 + below(40));
			c.frame.insert(c.frame.end(), tail.begin(), tail.end());
			c.what += ", trailing bytes";
		}
		return c;
	}

	void tx_case()
	{
		if (chance(20)) { // the daemon puts the endpoint back after a roam
			static const uint32_t mtus[] = {0, 1280, 1500};
			set_endpoint(chance(40), mtus[below(3)]);
		}
		Case c = tx_frame();
		if (chance(25))
			mutate(c, kTcMaxFrame);
		const Outcome want = model_.tx(c.frame);
		const Actual got = run(lab_.dp.tx_prog_fd(), c.frame, false);
		compare("xwg_tx", c, want, got);
		tally("xwg_tx", got);
	}

	// --- running and comparing ------------------------------------------------------------
	struct Actual {
		Verdict verdict = Verdict::refused;
		int raw = -1; // the program's return value
		int reason = -1;
		int err = 0;
		RunResult r;
		std::vector<Bytes> staged;
		bool endpoint_event = false;
	};

	Actual run(int fd, const Bytes &frame, bool xdp)
	{
		Actual a;
		const auto before = lab_.dp.drops();
		a.err = try_run_prog(fd, frame, a.r);
		const auto after = lab_.dp.drops();
		a.raw = a.r.verdict;
		if (!a.err) {
			if (xdp)
				a.verdict = a.raw == XDP_PASS	    ? Verdict::pass
					    : a.raw == XDP_DROP	    ? Verdict::drop
					    : a.raw == XDP_REDIRECT ? Verdict::redirect
								    : Verdict::refused;
			else
				a.verdict = a.raw == TC_ACT_OK	       ? Verdict::pass
					    : a.raw == TC_ACT_SHOT     ? Verdict::drop
					    : a.raw == TC_ACT_REDIRECT ? Verdict::redirect
								       : Verdict::refused;
		}
		int moved = 0;
		for (int i = 0; i < XWG_DROP_REASON_MAX; i++) {
			if (after[i] == before[i])
				continue;
			moved += static_cast<int>(after[i] - before[i]);
			a.reason = i;
		}
		if (moved > 1)
			a.reason = -2; // more than one count: never right
		for (Bytes &rec : events_.take()) {
			const xwg_event &ev = event_of(rec);
			if (ev.type == XWG_EVENT_STAGED_PACKET ||
			    ev.type == XWG_EVENT_OVERSIZE_PACKET)
				a.staged.push_back(std::move(rec));
			else if (ev.type == XWG_EVENT_ENDPOINT_CHANGED)
				a.endpoint_event = true;
		}
		return a;
	}

	void compare(const char *prog, const Case &c, const Outcome &want, const Actual &got)
	{
		if (want.verdict == Verdict::refused || (want.may_refuse && got.err == EINVAL)) {
			if (got.err != EINVAL)
				fail(prog, c, want, got,
				     "the test run should have refused the frame");
			return;
		}
		if (got.err || got.verdict == Verdict::refused)
			fail(prog, c, want, got, "no verdict, or one the hook never gives");
		if (got.verdict != want.verdict || got.reason != want.reason)
			fail(prog, c, want, got, "verdict or drop reason");
		if (got.verdict == Verdict::pass && got.r.out != c.frame)
			fail(prog, c, want, got, "a passed frame was changed");
		if (got.verdict == Verdict::redirect &&
		    (got.r.out.size() != want.out_len ||
		     !std::equal(want.out.begin(), want.out.end(), got.r.out.begin())))
			fail(prog, c, want, got, "the frame that left is not the expected one");
		const size_t staged_want = want.staged.empty() ? 0 : 1;
		if (got.staged.size() != staged_want)
			fail(prog, c, want, got, "packets staged for the daemon");
		if (staged_want) {
			const auto *sp =
				reinterpret_cast<const xwg_staged_packet *>(got.staged[0].data());
			if (sp->event.type != want.staged_type ||
			    sp->event.len != want.staged.size() ||
			    !std::equal(want.staged.begin(), want.staged.end(), sp->data))
				fail(prog, c, want, got,
				     "the staged packet is not the inner packet");
		}
		if (got.endpoint_event != model_.roamed && std::strcmp(prog, "xwg_tx") != 0)
			fail(prog, c, want, got, "endpoint-changed events");
	}

	static std::string reason_name(int r)
	{
		if (r == -1)
			return "-";
		if (r == -2)
			return "(several)";
		return xwg_drop_reason_name(static_cast<xwg_drop_reason>(r));
	}

	[[noreturn]] void fail(const char *prog, const Case &c, const Outcome &want,
			       const Actual &got, const char *what)
	{
		std::fprintf(stderr,
			     "dataplane_fuzz: VIOLATION in %s: %s\n  seed %" PRIu64
			     ", case %" PRIu64 " (replay: --seed %" PRIu64 " --cases %" PRIu64
			     ")\n  frame: %s, %zu bytes\n"
			     "  want %s/%s (%zu bytes out), got %s/%s (return %d, errno %d, %zu "
			     "bytes out)\n",
			     prog, what, seed_, case_, seed_, case_ + 1, c.what.c_str(),
			     c.frame.size(), to_string(want.verdict),
			     reason_name(want.reason).c_str(), want.out_len, to_string(got.verdict),
			     reason_name(got.reason).c_str(), got.raw, got.err, got.r.out.size());
		std::fprintf(stderr, "  first bytes:");
		for (size_t i = 0; i < std::min<size_t>(c.frame.size(), 96); i++)
			std::fprintf(stderr, "%s%02x", i % 16 ? " " : "\n    ", c.frame[i]);
		std::fprintf(stderr, "\n");
		const std::string file = "dataplane_fuzz-case-" + std::to_string(case_) + ".bin";
		std::ofstream(file, std::ios::binary)
			.write(reinterpret_cast<const char *>(c.frame.data()),
			       static_cast<std::streamsize>(c.frame.size()));
		std::fprintf(stderr, "  frame written to %s\n", file.c_str());
		std::exit(1);
	}

	void tally(const char *prog, const Actual &got)
	{
		std::string key = std::string(prog) + " " + to_string(got.verdict);
		if (got.verdict == Verdict::drop)
			key += " " + reason_name(got.reason);
		tally_[key]++;
	}

	uint64_t seed_;
	std::mt19937_64 rng_;
	DataplaneLab lab_;
	Events events_{lab_.dp};
	Model model_;
	uint64_t case_ = 0, epoch_end_ = 0;
	std::map<std::string, uint64_t> tally_;
};

} // namespace

int main(int argc, char **argv)
{
	uint64_t seed = std::random_device{}() | uint64_t(std::random_device{}()) << 32;
	uint64_t cases = 100000;
	double seconds = 0;
	bool usage = argc % 2 == 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		const std::string opt = argv[i];
		if (opt == "--seed")
			seed = std::stoull(argv[i + 1]);
		else if (opt == "--cases")
			cases = std::stoull(argv[i + 1]);
		else if (opt == "--seconds")
			seconds = std::stod(argv[i + 1]);
		else
			usage = true;
	}
	if (usage) {
		std::fprintf(stderr, "usage: %s [--seed N] [--cases N] [--seconds S]\n", argv[0]);
		return 2;
	}
	std::printf("dataplane_fuzz: seed %" PRIu64 ", %" PRIu64 " cases%s\n", seed, cases,
		    seconds > 0 ? " (or the time limit)" : "");
	const auto t0 = std::chrono::steady_clock::now();
	auto elapsed = [&] {
		return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	};
	Fuzzer fuzzer(seed);
	const double loaded = elapsed();
	while (fuzzer.cases() < cases && !(seconds > 0 && elapsed() > seconds))
		fuzzer.one_case();
	const double ran = elapsed() - loaded;
	std::printf("dataplane_fuzz: %" PRIu64
		    " cases in %.1f s (%.0f/s; data plane loaded in %.1f s), "
		    "no violation\n",
		    fuzzer.cases(), ran, fuzzer.cases() / ran, loaded);
	fuzzer.summary();
	return 0;
}
