// device_test.cpp — the device (loader/device/) without a kernel: two devices joined by
// fake networks, each with a fake data plane and one fake clock, run WireGuard's
// handshake with the real Noise code. What the kernel's programs would do with data
// messages (confirm a keypair on first use) the pump below does, by the same rules.
// Covered: sending, receiving, rotation, retirement after a grace period, timers, the
// under-load cookie policy, roaming, replayed initiations after a key change, and the
// sessions and key a failed configuration change leaves alone (device_apply_test.cpp
// covers the maps and routes of a failed change).
#include <catch2/catch.hpp>

#include "fake_dataplane.h"
#include "loader/device/device.h"
#include "loader/noise/transport.h"

#include <arpa/inet.h>

#include <chrono>
#include <deque>
#include <thread>

using namespace xwg;
using namespace xwgtest;

namespace {

constexpr std::uint64_t S = 1'000'000'000ULL;

Endpoint endpoint(const char *text)
{
	auto e = endpoint_parse(text);
	REQUIRE(e);
	return *e;
}

Cidr prefix(const char *text)
{
	auto c = cidr_parse(text);
	REQUIRE(c);
	return *c;
}

std::uint32_t le32(const std::vector<std::uint8_t> &d, std::size_t off)
{
	std::uint32_t v;
	std::memcpy(&v, d.data() + off, 4);
	return v;
}

struct Side {
	Side(const char *address, std::uint64_t &clock)
		: net(endpoint(address)), key(generate_private_key()),
		  device(dp, net, TimerSettings{}, {}, [&clock] { return clock; })
	{
	}
	FakeDataplane dp;
	FakeNetwork net;
	PrivateKey key;
	Device device;
	DeviceConfig config;

	PublicKey public_key() const { return public_key_of(key); }
	void apply(const DeviceConfig &next)
	{
		device.apply(next, config_diff(config, next));
		config = next;
	}
	std::size_t sent_of_type(std::uint32_t type) const
	{
		std::size_t n = 0;
		for (const auto &s : net.sent)
			n += le32(s.data, 0) == type;
		return n;
	}
	// An event as the data plane would send it.
	void event(std::uint32_t type, std::uint32_t peer_id, std::uint32_t local_index = 0)
	{
		xwg_event ev{};
		ev.type = type;
		ev.peer_id = peer_id;
		ev.local_index = local_index;
		device.on_event(&ev, sizeof(ev));
	}
	void staged(std::uint32_t peer_id, const std::vector<std::uint8_t> &packet)
	{
		xwg_staged_packet sp{};
		sp.event.type = XWG_EVENT_STAGED_PACKET;
		sp.event.peer_id = peer_id;
		sp.event.len = static_cast<std::uint32_t>(packet.size());
		std::memcpy(sp.data, packet.data(), packet.size());
		device.on_event(&sp, sizeof(sp));
	}
	std::uint32_t current(std::uint32_t peer_id = 0) const { return dp.peers[peer_id].current_index; }
};

// A and B, each the other's peer (id 0). A knows B's endpoint; B learns A's.
struct Pair {
	std::uint64_t now = 1000 * S;
	Side a{"192.0.2.1:51820", now};
	Side b{"192.0.2.2:51821", now};
	std::deque<std::pair<Side *, Datagram>> queue;
	std::size_t b_queue_depth = 0; // what B's socket reports as still waiting
	bool link_up = true;
	bool data_lost = false; // data messages vanish on the way
	std::vector<std::vector<std::uint8_t>> data_to_b; // type-4 messages B's programs got

	Pair()
	{
		a.net.deliver = [this](const Endpoint &to, std::vector<std::uint8_t> d) {
			if (link_up && to == b.net.self())
				queue.push_back({&b, Datagram{std::move(d), a.net.self(), {}, 0}});
		};
		b.net.deliver = [this](const Endpoint &to, std::vector<std::uint8_t> d) {
			if (link_up && to == a.net.self())
				queue.push_back({&a, Datagram{std::move(d), b.net.self(), {}, 0}});
		};
		DeviceConfig ca, cb;
		ca.iface.private_key = a.key;
		ca.iface.listen_port = 51820;
		PeerConfig pb;
		pb.public_key = b.public_key();
		pb.endpoint = b.net.self();
		pb.add_allowed_ip(prefix("10.0.0.2/32"));
		ca.peers.push_back(pb);
		cb.iface.private_key = b.key;
		cb.iface.listen_port = 51821;
		PeerConfig pa;
		pa.public_key = a.public_key();
		pa.add_allowed_ip(prefix("10.0.0.1/32"));
		cb.peers.push_back(pa);
		a.apply(ca);
		b.apply(cb);
	}

	// Delivers what is in flight (bounded). Handshake messages go to the receiver's
	// socket; data messages to its "programs", which confirm a keypair on first use.
	void pump()
	{
		for (int i = 0; i < 100 && !queue.empty(); ++i) {
			auto [to, d] = std::move(queue.front());
			queue.pop_front();
			if (le32(d.data, 0) == XWG_MSG_DATA && data_lost)
				continue;
			if (le32(d.data, 0) != XWG_MSG_DATA) {
				to->device.on_datagram(d, to == &b ? b_queue_depth : 0);
				continue;
			}
			if (to == &b)
				data_to_b.push_back(d.data);
			const std::uint32_t index = le32(d.data, 4);
			auto it = to->dp.keypairs.find(index);
			if (it == to->dp.keypairs.end() || !to->dp.live(index))
				continue;
			if (!(it->second.flags & XWG_KEYPAIR_CONFIRMED)) {
				it->second.flags |= XWG_KEYPAIR_CONFIRMED;
				to->event(XWG_EVENT_KEYPAIR_CONFIRMED, it->second.peer_id, index);
			}
		}
	}

	// A starts a handshake: no session yet, or its current one wants a rekey.
	void handshake()
	{
		// An initiation's TAI64N timestamp (wall clock, ~16 ms granules) must be newer
		// than the last one B accepted from A.
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		if (a.current())
			a.event(XWG_EVENT_REKEY_NEEDED, 0, a.current());
		else
			a.event(XWG_EVENT_HANDSHAKE_NEEDED, 0);
		pump();
	}
};

} // namespace

TEST_CASE("device: a handshake puts matching keys into both data planes")
{
	Pair p;
	p.handshake();
	REQUIRE(p.a.current() != 0);
	REQUIRE(p.b.current() != 0); // after A's keepalive confirmed it
	const xwg_keypair &ka = p.a.dp.keypairs.at(p.a.current());
	const xwg_keypair &kb = p.b.dp.keypairs.at(p.b.current());
	CHECK(ka.remote_index == p.b.current());
	CHECK(kb.remote_index == p.a.current());
	CHECK(std::memcmp(ka.send_key, kb.recv_key, 32) == 0);
	CHECK(std::memcmp(ka.recv_key, kb.send_key, 32) == 0);
	CHECK((ka.flags & XWG_KEYPAIR_INITIATOR));
	CHECK_FALSE((kb.flags & XWG_KEYPAIR_INITIATOR));
	CHECK(p.a.dp.live(p.a.current()));
	// B learned A's endpoint from the initiation.
	CHECK(Endpoints::address_of(p.b.dp.endpoints[0].ep) == p.a.net.self());
	CHECK(p.b.device.runtime(p.a.public_key()).last_handshake_sec != 0);
	// The allowed IPs reached the LPM tries.
	CHECK(p.a.dp.allowed.size() == 1);
}

TEST_CASE("device: a responder sends with a new keypair only once the initiator used it")
{
	Pair p;
	p.handshake();
	const std::uint32_t old = p.b.current();
	REQUIRE(old != 0);
	// A second handshake whose first data message from A is lost on the way.
	p.now += 6 * S;
	p.data_lost = true;
	p.handshake();
	CHECK(p.b.dp.keypairs.size() == 2);
	CHECK(p.b.current() == old); // the new one waits as `next`
	// A's next data message confirms it.
	p.data_lost = false;
	p.a.staged(0, std::vector<std::uint8_t>(40, 0x45));
	p.pump();
	CHECK(p.b.current() != old);
	CHECK(p.b.current() == p.a.dp.keypairs.at(p.a.current()).remote_index);
}

TEST_CASE("device: old keypairs are retired at once and wiped after a grace period")
{
	Pair p;
	std::vector<std::uint32_t> firsts;
	for (int i = 0; i < 3; ++i) {
		p.handshake();
		firsts.push_back(p.a.current());
		p.now += 6 * S; // initiations at most every REKEY_TIMEOUT
	}
	REQUIRE(firsts.size() == 3);
	REQUIRE(firsts[0] != firsts[1]);
	// previous = second, current = third; the first is retired, not yet wiped.
	const std::uint32_t first_slot = p.a.dp.keypairs.at(firsts[0]).counter_slot;
	CHECK(p.a.dp.slots[first_slot].state == XWG_KEYPAIR_RETIRED);
	CHECK(p.a.dp.keypairs.count(firsts[0]) == 1);
	CHECK(p.a.dp.live(firsts[1]));
	CHECK(p.a.dp.live(firsts[2]));
	CHECK(p.a.dp.grace_periods == 0);

	p.a.device.tick(p.now);
	CHECK(p.a.dp.grace_periods == 1);
	CHECK(p.a.dp.premature_wipes == 0);
	CHECK(p.a.dp.keypairs.count(firsts[0]) == 0);
	CHECK(p.a.dp.slots[first_slot].state == XWG_KEYPAIR_UNUSED);
	// A tick with nothing retired costs no grace period.
	p.a.device.tick(p.now);
	CHECK(p.a.dp.grace_periods == 1);

	// The freed slot is not the next one handed out (oldest freed first).
	p.handshake();
	CHECK(p.a.dp.keypairs.at(p.a.current()).counter_slot != first_slot);
}

TEST_CASE("device: staged packets go out sealed once the session exists")
{
	Pair p;
	std::vector<std::uint8_t> packet(100, 0x45);
	p.a.staged(0, packet);
	CHECK(p.a.sent_of_type(XWG_MSG_HANDSHAKE_INITIATION) == 1);
	p.pump();
	REQUIRE(p.a.current() != 0);
	// The staged packet reached B's data plane, sealed with B's receive key.
	const xwg_keypair &kb = p.b.dp.keypairs.at(p.b.current());
	bool opened = false;
	for (const auto &msg : p.data_to_b) {
		if (msg.size() != 16 + 112 + 16)
			continue;
		SymmetricKey key;
		std::memcpy(key.data(), kb.recv_key, 32);
		std::uint64_t counter;
		std::memcpy(&counter, msg.data() + 8, 8);
		std::vector<std::uint8_t> plain(112);
		opened = noise::aead_open(plain.data(), key, counter,
					  noise::Bytes(msg.data() + 16, msg.size() - 16), {});
		CHECK(std::vector<std::uint8_t>(plain.begin(), plain.begin() + 100) == packet);
	}
	CHECK(opened);
	CHECK(p.a.device.peer(p.b.public_key())->staged.empty());
}

TEST_CASE("device: unanswered initiations are retried, then given up with the staged packets")
{
	Pair p;
	p.link_up = false;
	p.a.staged(0, std::vector<std::uint8_t>(60, 0x45));
	const std::uint64_t start = p.now;
	for (std::uint64_t t = 0; t <= 120; ++t) {
		p.now = start + t * S;
		p.a.device.tick(p.now);
	}
	const std::size_t initiations = p.a.sent_of_type(XWG_MSG_HANDSHAKE_INITIATION);
	// One, then a retry every REKEY_TIMEOUT (plus jitter) for REKEY_ATTEMPT_TIME.
	CHECK(initiations >= XWG_MAX_TIMER_HANDSHAKES - 2);
	CHECK(initiations <= XWG_MAX_TIMER_HANDSHAKES + 2);
	CHECK(p.a.device.peer(p.b.public_key())->staged.empty());
}

TEST_CASE("device: after 3 x REJECT_AFTER_TIME without a handshake, every key is wiped")
{
	Pair p;
	p.handshake();
	REQUIRE(p.a.current() != 0);
	const std::uint64_t start = p.now;
	p.link_up = false;
	for (std::uint64_t t = 0; t <= 3 * XWG_REJECT_AFTER_TIME + 20; t += 1) {
		p.now = start + t * S;
		p.a.device.tick(p.now);
	}
	CHECK(p.a.current() == 0);
	CHECK(p.a.dp.keypairs.empty());
	CHECK(p.a.dp.premature_wipes == 0);
}

TEST_CASE("device: under load an initiation without mac2 gets a cookie, not a handshake")
{
	Pair p;
	p.b_queue_depth = 100000;
	p.a.event(XWG_EVENT_HANDSHAKE_NEEDED, 0);
	p.pump();
	CHECK(p.b.sent_of_type(XWG_MSG_HANDSHAKE_COOKIE) == 1);
	CHECK(p.b.sent_of_type(XWG_MSG_HANDSHAKE_RESPONSE) == 0);
	CHECK(p.b.dp.keypairs.empty());
	// The retry carries the cookie's mac2 and goes through.
	p.now += 6 * S;
	p.a.event(XWG_EVENT_HANDSHAKE_NEEDED, 0);
	p.pump();
	CHECK(p.b.sent_of_type(XWG_MSG_HANDSHAKE_RESPONSE) == 1);
	CHECK(p.a.current() != 0);
}

TEST_CASE("device: an initiation captured before a private-key change is refused after a change back")
{
	Pair p;
	p.a.event(XWG_EVENT_HANDSHAKE_NEEDED, 0);
	REQUIRE(!p.queue.empty());
	const Datagram captured = p.queue.front().second;
	p.pump();
	REQUIRE(p.b.sent_of_type(XWG_MSG_HANDSHAKE_RESPONSE) == 1);

	// B's key changes, and changes back.
	DeviceConfig other = p.b.config;
	other.iface.private_key = generate_private_key();
	p.b.apply(other);
	DeviceConfig back = p.b.config;
	back.iface.private_key = p.b.key;
	p.b.apply(back);

	p.now += 2 * S;
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	const auto invalid = p.b.dp.drops[XWG_DROP_CONTROL_INVALID];
	p.b.device.on_datagram(captured, 0);
	CHECK(p.b.sent_of_type(XWG_MSG_HANDSHAKE_RESPONSE) == 1); // no second response
	CHECK(p.b.dp.drops[XWG_DROP_CONTROL_INVALID] == invalid + 1);

	// A fresh initiation from A still works.
	p.now += 6 * S;
	p.handshake();
	CHECK(p.b.sent_of_type(XWG_MSG_HANDSHAKE_RESPONSE) == 2);
}

TEST_CASE("device: a roam reported by the data plane gets its route, and the daemon follows")
{
	Pair p;
	p.handshake();
	REQUIRE(p.b.current() != 0);
	// A's packets now come from elsewhere; B's xwg_rx moved the endpoint.
	xwg_endpoint moved{};
	moved.family = AF_INET;
	moved.port = htons(4000);
	moved.ifindex = 3;
	inet_pton(AF_INET, "198.51.100.9", &moved.addr.v4);
	p.b.dp.roam(0, moved);
	const auto generation = p.b.dp.endpoints[0].generation;
	p.b.event(XWG_EVENT_ENDPOINT_CHANGED, 0);
	const auto &now = p.b.dp.endpoints[0];
	CHECK(now.generation == generation); // the address stayed the data plane's
	CHECK(now.ep.port == htons(4000));
	CHECK(now.ep.ifindex == 3);          // learned on that underlay: kept
	CHECK(now.ep.path_mtu == 1500);      // the route's
	CHECK(now.ep.nexthop.v4 == moved.addr.v4);
	CHECK(p.b.device.runtime(p.a.public_key()).endpoint->to_string() == "198.51.100.9:4000");
	// The daemon's own sends follow it.
	p.b.net.sent.clear();
	p.b.staged(0, std::vector<std::uint8_t>(60, 0x45));
	REQUIRE(!p.b.net.sent.empty());
	CHECK(p.b.net.sent.back().to.to_string() == "198.51.100.9:4000");
}

TEST_CASE("device: a failed change keeps the key and the sessions of a peer it would remove")
{
	Pair p;
	p.handshake();
	const std::uint32_t current = p.a.current();
	REQUIRE(current != 0);
	// A new private key, B replaced by a peer whose allowed IP cannot be written.
	DeviceConfig next = p.a.config;
	next.iface.private_key = generate_private_key();
	PeerConfig other;
	other.public_key = public_key_of(generate_private_key());
	other.add_allowed_ip(prefix("10.0.0.3/32"));
	next.peers = {other};
	p.a.dp.fail(Call::set_allowed_ip, 1);
	CHECK_THROWS_AS(p.a.apply(next), UapiError);
	CHECK(p.a.device.peer(other.public_key) == nullptr);
	CHECK(p.a.device.peer(p.b.public_key()) != nullptr);
	CHECK(p.a.current() == current);
	CHECK(p.a.dp.live(current));
	// A's key is still the one B knows: the next handshake goes through.
	p.now += 6 * S;
	p.handshake();
	CHECK(p.a.current() != current);
	CHECK(p.b.current() == p.a.dp.keypairs.at(p.a.current()).remote_index);
}

namespace {

// What a daemon taking over finds in the data plane, read from the fake as
// kernel/dataplane.cpp reads the pinned maps.
Device::Found found_in(const FakeDataplane &dp, const Device &old)
{
	Device::Found f;
	f.peer_ids = old.peer_ids();
	for (std::uint32_t id = 0; id < dp.peers.size(); ++id)
		if (dp.peers[id].active)
			f.peers[id] = dp.peers[id];
	for (const auto &[index, kp] : dp.keypairs)
		f.keypairs.push_back({index, kp, dp.slots.at(kp.counter_slot)});
	for (const auto &[key, peer_id] : dp.allowed) {
		PinnedAllowedIp a{};
		std::copy(key.first.begin(), key.first.end(), a.addr.begin());
		a.addr_len = static_cast<std::uint8_t>(key.first.size());
		a.prefixlen = key.second;
		a.peer_id = peer_id;
		f.allowed_ips.push_back(a);
	}
	return f;
}

} // namespace

TEST_CASE("device: a new device takes over the data plane: sessions, rotation and retirement go on")
{
	Pair p;
	std::vector<std::uint32_t> firsts;
	for (int i = 0; i < 3; ++i) {
		p.handshake();
		firsts.push_back(p.a.current());
		p.now += 6 * S;
	}
	// previous, current, and one retired that no grace period has wiped yet.
	REQUIRE(p.a.dp.keypairs.size() == 3);
	const auto allowed_before = p.a.dp.allowed;

	// A's daemon goes without touching anything; a new one takes over.
	const Device::Found found = found_in(p.a.dp, p.a.device);
	p.a.device.detach();
	FakeNetwork net2(p.a.net.self());
	net2.deliver = p.a.net.deliver;
	Device a2(p.a.dp, net2, TimerSettings{}, {}, [&p] { return p.now; });
	a2.adopt(p.a.config, found);

	CHECK(a2.config() == p.a.config);
	CHECK(a2.peer_ids() == found.peer_ids);
	CHECK(p.a.dp.allowed == allowed_before);
	const Peer *b = a2.peer(p.b.public_key());
	REQUIRE(b);
	REQUIRE(b->keypairs.current());
	CHECK(b->keypairs.current()->keypair.local_index == firsts[2]);
	REQUIRE(b->keypairs.previous());
	CHECK(b->keypairs.previous()->keypair.local_index == firsts[1]);
	CHECK(b->keypairs.current()->keypair.initiator);
	CHECK(b->endpoint == p.b.net.self());
	CHECK(a2.runtime(p.b.public_key()).last_handshake_sec != 0);
	CHECK(p.a.current() == firsts[2]); // the data plane kept sending with it

	// The retired one is wiped at the next tick, after a grace period, as before.
	a2.tick(p.now);
	CHECK(p.a.dp.premature_wipes == 0);
	CHECK(p.a.dp.keypairs.count(firsts[0]) == 0);
	CHECK(p.a.dp.keypairs.size() == 2);

	// And the session rotates: a rekey from the new device completes with B.
	std::this_thread::sleep_for(std::chrono::milliseconds(20)); // a newer TAI64N
	xwg_event ev{};
	ev.type = XWG_EVENT_REKEY_NEEDED;
	ev.local_index = p.a.current();
	a2.on_event(&ev, sizeof(ev));
	for (int i = 0; i < 20 && !p.queue.empty(); ++i) {
		auto [to, d] = std::move(p.queue.front());
		p.queue.pop_front();
		if (to == &p.a)
			a2.on_datagram(d, 0);
		else if (le32(d.data, 0) != XWG_MSG_DATA)
			p.b.device.on_datagram(d, 0);
	}
	CHECK(p.a.current() != firsts[2]);
	REQUIRE(p.a.dp.keypairs.count(p.a.current()));
	const xwg_keypair &ka = p.a.dp.keypairs.at(p.a.current());
	REQUIRE(p.b.dp.keypairs.count(ka.remote_index));
	CHECK(std::memcmp(ka.send_key, p.b.dp.keypairs.at(ka.remote_index).recv_key, 32) == 0);
	a2.tick(p.now + 2 * S);
	CHECK(p.a.dp.premature_wipes == 0);
	CHECK(p.a.dp.keypairs.count(firsts[1]) == 0); // previous of the old rotation went
}

TEST_CASE("keypair rotation: a taken-over set of keypairs finds its places")
{
	struct Recorder : KeypairStore {
		std::vector<std::uint32_t> retired;
		std::uint32_t current = 99;
		std::optional<std::uint32_t> install(const noise::Keypair &) override { return 0; }
		void retire(std::uint32_t index, std::uint32_t) override { retired.push_back(index); }
		void set_current(std::uint32_t index) override { current = index; }
	} store;
	auto entry = [](std::uint32_t index, std::uint64_t birth, bool initiator) {
		KeypairRotation::Entry e;
		e.keypair.local_index = index;
		e.keypair.birth_ns = birth;
		e.keypair.initiator = initiator;
		e.counter_slot = index;
		return e;
	};
	SECTION("previous, current and a responder's next")
	{
		KeypairRotation r(store);
		r.adopt({entry(1, 10, true), entry(2, 20, true), entry(3, 30, false), entry(4, 5, true)},
			2);
		REQUIRE(r.current());
		CHECK(r.current()->keypair.local_index == 2);
		REQUIRE(r.previous());
		CHECK(r.previous()->keypair.local_index == 1);
		REQUIRE(r.next());
		CHECK(r.next()->keypair.local_index == 3);
		CHECK(store.retired == std::vector<std::uint32_t>{4}); // older than previous
		CHECK(store.current == 99);                            // untouched
	}
	SECTION("a current index that names nothing live is cleared")
	{
		KeypairRotation r(store);
		r.adopt({entry(5, 10, false)}, 7);
		CHECK_FALSE(r.current());
		REQUIRE(r.next());
		CHECK(r.next()->keypair.local_index == 5);
		CHECK(store.current == 0);
	}
}

TEST_CASE("device: the handshake and cookie counters the metrics report")
{
	Pair p;
	const std::vector<std::uint8_t> packet(60, 0x45);
	// Under load, B answers A's first initiation with a cookie; the retry goes through.
	p.b_queue_depth = 100000;
	p.a.staged(0, packet);
	CHECK(p.a.device.counters().staged_packets == 1);
	p.pump();
	CHECK(p.b.device.counters().cookie_replies_sent == 1);
	CHECK(p.a.device.counters().cookie_replies_received == 1);
	CHECK(p.b.device.counters().initiations_received == 0);
	p.now += 6 * S;
	p.a.event(XWG_EVENT_HANDSHAKE_NEEDED, 0);
	p.pump();
	REQUIRE(p.a.current() != 0);
	const DeviceCounters a = p.a.device.counters(), b = p.b.device.counters();
	CHECK(a.initiations_sent == 2);
	CHECK(a.responses_received == 1);
	CHECK(a.staged_packets == 0); // sent with the new session
	CHECK(b.initiations_received == 1);
	CHECK(b.responses_sent == 1);
	CHECK(a.initiations_failed + a.responses_failed + b.initiations_failed + b.responses_failed == 0);

	// A tampered initiation and a response nobody asked for are refused, and counted.
	p.b_queue_depth = 0;
	p.now += 6 * S;
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	p.a.event(XWG_EVENT_REKEY_NEEDED, 0, p.a.current());
	REQUIRE(!p.queue.empty());
	Datagram initiation = p.queue.front().second;
	p.queue.clear();
	initiation.data[20] ^= 1;
	p.b.device.on_datagram(initiation, 0);
	std::vector<std::uint8_t> response(XWG_MSG_RESPONSE_LEN, 0);
	response[0] = XWG_MSG_HANDSHAKE_RESPONSE;
	p.a.device.on_datagram(Datagram{response, p.b.net.self(), {}, 0}, 0);
	CHECK(p.b.device.counters().initiations_failed == 1);
	CHECK(p.a.device.counters().responses_failed == 1);

	// Unanswered: retried, then given up with what was staged.
	Pair q;
	q.link_up = false;
	q.a.staged(0, packet);
	q.a.staged(0, packet);
	CHECK(q.a.device.counters().staged_packets == 2);
	const std::uint64_t start = q.now;
	for (std::uint64_t t = 0; t <= 120; ++t) {
		q.now = start + t * S;
		q.a.device.tick(q.now);
	}
	CHECK(q.a.device.counters().handshakes_abandoned == 1);
	CHECK(q.a.device.counters().staged_packets == 0);
	CHECK(q.a.device.counters().initiations_sent >= XWG_MAX_TIMER_HANDSHAKES - 2);
}
