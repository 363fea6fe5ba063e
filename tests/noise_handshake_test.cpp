// noise_handshake_test.cpp — WireGuard handshakes between two in-process peers: round trips
// with and without a preshared key, the derived keypairs, and every way a message can be
// refused, each with its own reason and without a change of state.
#include <catch2/catch.hpp>

#include "loader/noise/handshake.h"
#include "loader/noise/index_table.h"
#include "loader/noise/transport.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <endian.h>
#include <string>
#include <vector>

using namespace xwg;
using namespace xwg::noise;

namespace {

constexpr std::uint64_t SEC = 1000000000ULL;

Bytes bytes_of(const auto &msg)
{
	return Bytes(reinterpret_cast<const std::uint8_t *>(&msg), sizeof(msg));
}

// Two peers that know each other; `alice` initiates.
struct Pair {
	Identity alice_id = Identity::from_private(generate_private_key());
	Identity bob_id = Identity::from_private(generate_private_key());
	PresharedKey psk;
	Handshake alice{alice_id, bob_id.public_key, psk};
	Handshake bob{bob_id, alice_id.public_key, psk};
	PeerLookup bob_lookup = [this](const PublicKey &k) -> Handshake * {
		return k == alice_id.public_key ? &bob : nullptr;
	};
	std::uint64_t now = 1000 * SEC;

	explicit Pair(bool with_psk = false)
	{
		if (with_psk) {
			psk = generate_preshared_key();
			alice.set_preshared_key(psk);
			bob.set_preshared_key(psk);
		}
	}

	void full(Keypair &a, Keypair &b, std::uint32_t ai = 11, std::uint32_t bi = 22)
	{
		xwg_msg_initiation init;
		REQUIRE(alice.create_initiation(init, ai) == HandshakeError::ok);
		auto r = Handshake::consume_initiation(bob_id, bytes_of(init), bob_lookup, now);
		REQUIRE(r.error == HandshakeError::ok);
		REQUIRE(r.peer == &bob);
		xwg_msg_response resp;
		REQUIRE(bob.create_response(resp, bi) == HandshakeError::ok);
		REQUIRE(alice.consume_response(bytes_of(resp)) == HandshakeError::ok);
		REQUIRE(alice.begin_session(a, now) == HandshakeError::ok);
		REQUIRE(bob.begin_session(b, now) == HandshakeError::ok);
	}
};

void check_keypairs_match(const Keypair &a, const Keypair &b)
{
	CHECK(a.sending == b.receiving);
	CHECK(a.receiving == b.sending);
	CHECK_FALSE(a.sending == a.receiving);
	CHECK(a.initiator);
	CHECK_FALSE(b.initiator);
	CHECK(a.local_index == b.remote_index);
	CHECK(a.remote_index == b.local_index);
}

} // namespace

TEST_CASE("a handshake derives matching keypairs, with and without a preshared key")
{
	for (bool with_psk : {false, true}) {
		Pair p(with_psk);
		Keypair a, b;
		p.full(a, b, 0x11223344, 0x55667788);
		check_keypairs_match(a, b);
		CHECK(a.local_index == 0x11223344);
		CHECK(b.local_index == 0x55667788);
		CHECK(a.birth_ns == p.now);
		CHECK(p.alice.state() == HandshakeState::zeroed);
		CHECK(p.bob.state() == HandshakeState::zeroed);

		// And the keys carry data both ways.
		std::uint8_t pkt[128], out[128];
		const char hello[] = "hello, bob";
		auto n = transport_seal(pkt, a.sending, a.remote_index, 7,
					Bytes(reinterpret_cast<const std::uint8_t *>(hello), 10));
		REQUIRE(n == 16 + 16 + 16);
		auto o = transport_open(out, b.receiving, Bytes(pkt, n));
		REQUIRE(o.error == TransportError::ok);
		CHECK(o.receiver_index == b.local_index);
		CHECK(o.counter == 7);
		CHECK(o.len == 16);
		CHECK(std::memcmp(out, hello, 10) == 0);
	}
}

TEST_CASE("wire formats: types, sizes, indices")
{
	Pair p;
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 0xabcdef01) == HandshakeError::ok);
	CHECK(le32toh(init.header.type) == 1);
	CHECK(le32toh(init.sender_index) == 0xabcdef01);
	CHECK(p.alice.state() == HandshakeState::created_initiation);
	REQUIRE(Handshake::consume_initiation(p.bob_id, bytes_of(init), p.bob_lookup, p.now).error ==
		HandshakeError::ok);
	CHECK(p.bob.state() == HandshakeState::consumed_initiation);
	CHECK(p.bob.remote_index() == 0xabcdef01);
	xwg_msg_response resp;
	REQUIRE(p.bob.create_response(resp, 0x12345678) == HandshakeError::ok);
	CHECK(le32toh(resp.header.type) == 2);
	CHECK(le32toh(resp.sender_index) == 0x12345678);
	CHECK(le32toh(resp.receiver_index) == 0xabcdef01);
	CHECK(p.bob.state() == HandshakeState::created_response);
}

TEST_CASE("wrong static key: an initiation sealed to another key is refused")
{
	Pair p;
	Identity mallory = Identity::from_private(generate_private_key());
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	// Mallory receives it: the static does not decrypt with her key.
	Handshake m(mallory, p.alice_id.public_key);
	PeerLookup lookup = [&](const PublicKey &) { return &m; };
	auto r = Handshake::consume_initiation(mallory, bytes_of(init), lookup, p.now);
	CHECK(r.error == HandshakeError::static_decrypt_failed);
	CHECK(r.peer == nullptr);
	CHECK(m.state() == HandshakeState::zeroed);
}

TEST_CASE("an initiation from a key that is not configured is refused")
{
	Pair p;
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	PeerLookup none = [](const PublicKey &) -> Handshake * { return nullptr; };
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(init), none, p.now).error ==
	      HandshakeError::unknown_peer);
}

TEST_CASE("the responder's peer entry must match the initiator's static-static secret")
{
	// Bob has Alice configured but his entry was built for another of his keys.
	Pair p;
	Identity other_bob = Identity::from_private(generate_private_key());
	Handshake stale(other_bob, p.alice_id.public_key);
	PeerLookup lookup = [&](const PublicKey &) { return &stale; };
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(init), lookup, p.now).error ==
	      HandshakeError::payload_decrypt_failed);
}

TEST_CASE("wrong preshared key: the response does not authenticate")
{
	Pair p;
	p.bob.set_preshared_key(generate_preshared_key());
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	// The psk only enters after the initiation, so Bob accepts it...
	REQUIRE(Handshake::consume_initiation(p.bob_id, bytes_of(init), p.bob_lookup, p.now).error ==
		HandshakeError::ok);
	xwg_msg_response resp;
	REQUIRE(p.bob.create_response(resp, 2) == HandshakeError::ok);
	// ...and Alice refuses his response, staying ready for a correct one.
	CHECK(p.alice.consume_response(bytes_of(resp)) == HandshakeError::response_decrypt_failed);
	CHECK(p.alice.state() == HandshakeState::created_initiation);
}

TEST_CASE("replayed or older timestamps are refused; newer ones accepted")
{
	Pair p;
	xwg_msg_initiation first, older, again;
	REQUIRE(p.alice.create_initiation(first, 1, tai64n_from(2000000000, 0)) ==
		HandshakeError::ok);
	REQUIRE(p.alice.create_initiation(older, 2, tai64n_from(1999999999, 999000000)) ==
		HandshakeError::ok);
	REQUIRE(Handshake::consume_initiation(p.bob_id, bytes_of(first), p.bob_lookup, p.now).error ==
		HandshakeError::ok);
	p.now += SEC;
	// The very same packet again.
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(first), p.bob_lookup, p.now).error ==
	      HandshakeError::replayed_timestamp);
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(older), p.bob_lookup, p.now).error ==
	      HandshakeError::replayed_timestamp);
	CHECK(p.bob.remote_index() == 1);
	REQUIRE(p.alice.create_initiation(again, 3, tai64n_from(2000000000, 1 << 24)) ==
		HandshakeError::ok);
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(again), p.bob_lookup, p.now).error ==
	      HandshakeError::ok);
	CHECK(p.bob.remote_index() == 3);
}

TEST_CASE("more than 50 initiations a second from one peer are refused")
{
	Pair p;
	xwg_msg_initiation a, b;
	REQUIRE(p.alice.create_initiation(a, 1, tai64n_from(100, 0)) == HandshakeError::ok);
	REQUIRE(p.alice.create_initiation(b, 2, tai64n_from(101, 0)) == HandshakeError::ok);
	REQUIRE(Handshake::consume_initiation(p.bob_id, bytes_of(a), p.bob_lookup, p.now).error ==
		HandshakeError::ok);
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(b), p.bob_lookup, p.now + SEC / 100)
		      .error == HandshakeError::initiation_flood);
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(b), p.bob_lookup, p.now + SEC / 50)
		      .error == HandshakeError::ok);
}

TEST_CASE("truncated, oversized and mistyped messages are refused")
{
	Pair p;
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	std::vector<std::uint8_t> buf(sizeof(init) + 1);
	std::memcpy(buf.data(), &init, sizeof(init));

	CHECK(Handshake::consume_initiation(p.bob_id, Bytes(buf.data(), sizeof(init) - 1),
					    p.bob_lookup, p.now)
		      .error == HandshakeError::wrong_length);
	CHECK(Handshake::consume_initiation(p.bob_id, Bytes(buf.data(), buf.size()), p.bob_lookup,
					    p.now)
		      .error == HandshakeError::wrong_length);
	CHECK(Handshake::consume_initiation(p.bob_id, Bytes(), p.bob_lookup, p.now).error ==
	      HandshakeError::wrong_length);
	buf[1] = 1; // reserved byte
	CHECK(Handshake::consume_initiation(p.bob_id, Bytes(buf.data(), sizeof(init)), p.bob_lookup,
					    p.now)
		      .error == HandshakeError::wrong_type);
	buf[1] = 0;
	buf[0] = 2;
	CHECK(Handshake::consume_initiation(p.bob_id, Bytes(buf.data(), sizeof(init)), p.bob_lookup,
					    p.now)
		      .error == HandshakeError::wrong_type);
	CHECK(p.bob.state() == HandshakeState::zeroed);

	// Flipping any byte of the sealed part breaks it.
	buf[0] = 1;
	buf[40] ^= 1;
	CHECK(Handshake::consume_initiation(p.bob_id, Bytes(buf.data(), sizeof(init)), p.bob_lookup,
					    p.now)
		      .error == HandshakeError::static_decrypt_failed);

	// Responses too.
	REQUIRE(Handshake::consume_initiation(p.bob_id, bytes_of(init), p.bob_lookup, p.now).error ==
		HandshakeError::ok);
	xwg_msg_response resp;
	REQUIRE(p.bob.create_response(resp, 9) == HandshakeError::ok);
	std::vector<std::uint8_t> r(sizeof(resp) + 1);
	std::memcpy(r.data(), &resp, sizeof(resp));
	CHECK(p.alice.consume_response(Bytes(r.data(), sizeof(resp) - 1)) ==
	      HandshakeError::wrong_length);
	CHECK(p.alice.consume_response(Bytes(r.data(), r.size())) == HandshakeError::wrong_length);
	r[0] = 1;
	CHECK(p.alice.consume_response(Bytes(r.data(), sizeof(resp))) == HandshakeError::wrong_type);
	r[0] = 2;
	r[8] ^= 1; // receiver index
	CHECK(p.alice.consume_response(Bytes(r.data(), sizeof(resp))) ==
	      HandshakeError::index_mismatch);
	r[8] ^= 1;
	r[50] ^= 1; // encrypted nothing
	CHECK(p.alice.consume_response(Bytes(r.data(), sizeof(resp))) ==
	      HandshakeError::response_decrypt_failed);
	r[50] ^= 1;
	CHECK(p.alice.consume_response(Bytes(r.data(), sizeof(resp))) == HandshakeError::ok);
}

TEST_CASE("steps out of order fail closed")
{
	Pair p;
	Keypair k;
	xwg_msg_response resp{};
	resp.header.type = htole32(XWG_MSG_HANDSHAKE_RESPONSE);
	CHECK(p.bob.create_response(resp, 1) == HandshakeError::wrong_state);
	CHECK(p.alice.begin_session(k, p.now) == HandshakeError::wrong_state);
	CHECK(p.alice.consume_response(bytes_of(resp)) == HandshakeError::wrong_state);

	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	CHECK(p.alice.begin_session(k, p.now) == HandshakeError::wrong_state);
	REQUIRE(Handshake::consume_initiation(p.bob_id, bytes_of(init), p.bob_lookup, p.now).error ==
		HandshakeError::ok);
	CHECK(p.bob.begin_session(k, p.now) == HandshakeError::wrong_state);
	REQUIRE(p.bob.create_response(resp, 2) == HandshakeError::ok);
	REQUIRE(p.alice.consume_response(bytes_of(resp)) == HandshakeError::ok);
	// A second copy of the response finds no initiation waiting.
	CHECK(p.alice.consume_response(bytes_of(resp)) == HandshakeError::wrong_state);
}

TEST_CASE("a low-order peer key is refused up front")
{
	Identity me = Identity::from_private(generate_private_key());
	PublicKey zero; // the all-zero point has order 4 after clamping: DH gives zero
	Handshake h(me, zero);
	xwg_msg_initiation init;
	CHECK(h.create_initiation(init, 1) == HandshakeError::invalid_remote_key);
	CHECK(h.state() == HandshakeState::zeroed);
}

TEST_CASE("a low-order ephemeral in an initiation is refused")
{
	Pair p;
	xwg_msg_initiation init;
	REQUIRE(p.alice.create_initiation(init, 1) == HandshakeError::ok);
	std::memset(init.unencrypted_ephemeral, 0, sizeof(init.unencrypted_ephemeral));
	CHECK(Handshake::consume_initiation(p.bob_id, bytes_of(init), p.bob_lookup, p.now).error ==
	      HandshakeError::bad_ephemeral);
}

TEST_CASE("every reason has its own text")
{
	std::vector<std::string> seen;
	for (int i = 0; i <= static_cast<int>(HandshakeError::response_decrypt_failed); ++i) {
		std::string s = to_string(static_cast<HandshakeError>(i));
		CHECK(s != "unknown");
		CHECK(std::find(seen.begin(), seen.end(), s) == seen.end());
		seen.push_back(s);
	}
	CHECK(std::string(to_string(HandshakeState::consumed_response)) == "consumed response");
}

TEST_CASE("index table hands out unique non-zero indices")
{
	IndexTable t;
	std::vector<std::uint32_t> got;
	for (int i = 0; i < 10000; ++i) {
		auto idx = t.insert({IndexTable::Kind::handshake, 7});
		CHECK(idx != 0);
		got.push_back(idx);
	}
	std::sort(got.begin(), got.end());
	CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
	CHECK(t.size() == 10000);
	REQUIRE(t.replace(got[0], {IndexTable::Kind::keypair, 7}));
	CHECK(t.lookup(got[0])->kind == IndexTable::Kind::keypair);
	t.remove(got[0]);
	CHECK_FALSE(t.lookup(got[0]));
	CHECK_FALSE(t.replace(got[0], {IndexTable::Kind::keypair, 7}));
}

TEST_CASE("index table can fix an index's residue (the data plane's CPU choice)")
{
	IndexTable t;
	for (std::uint32_t modulus : {2u, 3u, 7u})
		for (std::uint32_t residue = 0; residue < modulus; ++residue)
			for (int i = 0; i < 500; ++i) {
				auto idx = t.insert({IndexTable::Kind::handshake, 1}, modulus, residue);
				CHECK(idx != 0);
				CHECK(idx % modulus == residue);
			}
	CHECK(t.size() == 500 * (2 + 3 + 7));
	// Out-of-range residues wrap; modulus 0 or 1 means any index.
	CHECK(t.insert({IndexTable::Kind::handshake, 1}, 4, 6) % 4 == 2);
	CHECK(t.insert({IndexTable::Kind::handshake, 1}, 0, 5) != 0);
}

TEST_CASE("keypair to map value and TAI64N")
{
	Pair p;
	Keypair a, b;
	p.full(a, b);
	xwg_keypair v;
	to_map_value(a, 3, 4, v);
	CHECK(std::memcmp(v.send_key, a.sending.data(), 32) == 0);
	CHECK(std::memcmp(v.recv_key, a.receiving.data(), 32) == 0);
	CHECK(v.remote_index == a.remote_index);
	CHECK(v.peer_id == 3);
	CHECK(v.counter_slot == 4);
	CHECK(v.flags == XWG_KEYPAIR_INITIATOR);
	CHECK(v.birth_ns == p.now);
	CHECK(boottime_ns() > 0);

	auto t = tai64n_from(0, 0);
	CHECK(t[0] == 0x40);
	CHECK(t[7] == 0x0a);
	CHECK(tai64n_after(tai64n_now(), tai64n_from(1700000000, 0)));
	CHECK_FALSE(tai64n_after(t, t));
}

TEST_CASE("transport sealing pads to 16 and refuses tampering")
{
	SymmetricKey k;
	randombytes_buf(k.data(), k.size());
	std::uint8_t pkt[256], out[256];
	CHECK(transport_len(0) == 32);
	CHECK(transport_len(1) == 48);
	CHECK(transport_len(100, 110) == 16 + 110 + 16);
	auto n = transport_seal(pkt, k, 5, 0, Bytes());
	REQUIRE(n == 32); // keepalive
	auto o = transport_open(out, k, Bytes(pkt, n));
	CHECK(o.error == TransportError::ok);
	CHECK(o.len == 0);
	pkt[20] ^= 1;
	CHECK(transport_open(out, k, Bytes(pkt, n)).error == TransportError::auth_failed);
	CHECK(transport_open(out, k, Bytes(pkt, 31)).error == TransportError::too_short);
	pkt[0] = 1;
	CHECK(transport_open(out, k, Bytes(pkt, n)).error == TransportError::wrong_type);
	CHECK(transport_seal(std::span<std::uint8_t>(pkt, 31), k, 5, 0, Bytes()) == 0);
}
