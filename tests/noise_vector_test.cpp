// noise_vector_test.cpp — the cacophony test vector for Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
// (haskell-cryptography/cacophony, vectors/cacophony.txt): both sides of the handshake with
// the vector's fixed keys, every message byte for byte, the handshake hash, and the four
// transport messages under the split keys. Its prologue is "John Galt", not WireGuard's
// identifier, which is why the prologue is a parameter of Identity.
#include <catch2/catch.hpp>

#include "loader/noise/handshake.h"
#include "loader/noise/transport.h"
#include "noise_test_util.h"

#include <cstring>
#include <vector>

using namespace xwg;
using namespace xwg::noise;
using xwg::test::hex;
using xwg::test::unhex;

namespace {

// Transcribed from the vector file.
const char *prologue_hex = "4a6f686e2047616c74";
const char *psk_hex = "54686973206973206d7920417573747269616e20706572737065637469766521";
const char *init_static_hex = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
const char *init_ephemeral_hex =
	"893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
const char *init_remote_static_hex =
	"31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
const char *resp_static_hex = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
const char *resp_ephemeral_hex =
	"bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
const char *handshake_hash_hex =
	"f5191b875290abcd41347ac3622d9679688a7e980229cb937ef748336cfde0e5";

struct Message {
	const char *payload, *ciphertext;
};
const Message messages[] = {
	{"4c756477696720766f6e204d69736573",
	 "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944001e21de9f98ddd8e2ad5752"
	 "7207feb56253c9c94a9e496782ecfcb2a75fbcaf1b52948cc48daefe660c62119ab5000980c84831215f2441"
	 "eba616548e832985464cf17e51ee93109008399a21f7e13f"},
	{"4d757272617920526f746862617264",
	 "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843cb765f2caef0751b8f007572"
	 "dab0322217755c0632f365717edbf34d33e87a"},
	{"462e20412e20486179656b", "8153ca9833bc3c1b91a7e66e5f4d4f5b59bf9e64c2f20d15f0bba7"},
	{"4361726c204d656e676572", "07af0c9c86e1b4e80f36b04ff7688d51141af3debd0332f0a705ef"},
	{"4a65616e2d426170746973746520536179",
	 "6ab1467c0448cc78394494abaaf23afce0e234315d6e2624dcbfa8a21c1c4d073d"},
	{"457567656e2042f6686d20766f6e2042617765726b",
	 "dfc346c0d2296ae6cf1acf6f12b8456a1dba228cf8d8b774aacf1c47fc53aa80ebc7a4c292"},
};

template <class K> K key_from_hex(const char *h)
{
	K k;
	auto v = unhex(h);
	REQUIRE(v.size() == k.size());
	std::memcpy(k.data(), v.data(), k.size());
	return k;
}

} // namespace

TEST_CASE("cacophony Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector, byte for byte")
{
	auto prologue_bytes = unhex(prologue_hex);
	std::string prologue(prologue_bytes.begin(), prologue_bytes.end());
	Protocol protocol{"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", prologue};

	auto initiator = Identity::from_private(key_from_hex<PrivateKey>(init_static_hex), protocol);
	auto responder = Identity::from_private(key_from_hex<PrivateKey>(resp_static_hex), protocol);
	auto psk = key_from_hex<PresharedKey>(psk_hex);
	REQUIRE(hex(responder.public_key) == init_remote_static_hex);

	Handshake init_side(initiator, responder.public_key, psk);
	Handshake resp_side(responder, initiator.public_key, psk);
	init_side.use_ephemeral_once(key_from_hex<PrivateKey>(init_ephemeral_hex));
	resp_side.use_ephemeral_once(key_from_hex<PrivateKey>(resp_ephemeral_hex));
	PeerLookup lookup = [&](const PublicKey &k) -> Handshake * {
		return k == initiator.public_key ? &resp_side : nullptr;
	};

	// -> e, es, s, ss, {payload}
	auto p0 = unhex(messages[0].payload);
	std::vector<std::uint8_t> m0(INITIATION_NOISE_LEN + p0.size());
	REQUIRE(init_side.write_initiation(m0, p0) == HandshakeError::ok);
	CHECK(hex(m0) == messages[0].ciphertext);

	std::vector<std::uint8_t> got0(p0.size());
	auto r = Handshake::read_initiation(responder, unhex(messages[0].ciphertext), got0, lookup);
	REQUIRE(r.error == HandshakeError::ok);
	CHECK(r.peer == &resp_side);
	CHECK(got0 == p0);

	// <- e, ee, se, psk, {payload}
	auto p1 = unhex(messages[1].payload);
	std::vector<std::uint8_t> m1(RESPONSE_NOISE_LEN + p1.size());
	REQUIRE(resp_side.write_response(m1, p1) == HandshakeError::ok);
	CHECK(hex(m1) == messages[1].ciphertext);

	std::vector<std::uint8_t> got1(p1.size());
	REQUIRE(init_side.read_response(unhex(messages[1].ciphertext), got1) == HandshakeError::ok);
	CHECK(got1 == p1);

	CHECK(hex(init_side.transcript_hash(), 32) == handshake_hash_hex);
	CHECK(hex(resp_side.transcript_hash(), 32) == handshake_hash_hex);

	Keypair ik, rk;
	REQUIRE(init_side.begin_session(ik, 1) == HandshakeError::ok);
	REQUIRE(resp_side.begin_session(rk, 1) == HandshakeError::ok);
	CHECK(ik.sending == rk.receiving);
	CHECK(ik.receiving == rk.sending);
	CHECK(ik.initiator);
	CHECK_FALSE(rk.initiator);
	CHECK(init_side.state() == HandshakeState::zeroed);

	// Transport: initiator and responder alternate, each counting its own nonces from 0.
	std::uint64_t nonce[2] = {0, 0};
	for (std::size_t i = 2; i < std::size(messages); ++i) {
		bool from_initiator = i % 2 == 0;
		const Keypair &tx = from_initiator ? ik : rk;
		const Keypair &rx = from_initiator ? rk : ik;
		auto plain = unhex(messages[i].payload);
		std::uint64_t n = nonce[from_initiator ? 0 : 1]++;
		std::vector<std::uint8_t> sealed(plain.size() + AEAD_TAG_LEN);
		aead_seal(sealed.data(), tx.sending, n, plain, Bytes());
		INFO("transport message " << i);
		CHECK(hex(sealed) == messages[i].ciphertext);
		std::vector<std::uint8_t> opened(plain.size());
		CHECK(aead_open(opened.data(), rx.receiving, n, unhex(messages[i].ciphertext),
				Bytes()));
		CHECK(opened == plain);
	}
}
