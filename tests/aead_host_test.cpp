// aead_host_test — the AEAD of bpf/lib/{chacha20,poly1305,aead,aead_host}.h on the host:
// RFC 8439 vectors, a differential test against libsodium's
// crypto_aead_chacha20poly1305_ietf_*, and tampering (any flipped bit or a truncation
// must fail to open and leave the buffer as it was).
#include <catch2/catch.hpp>
#include <sodium.h>

#include <cstring>
#include <random>

#include "aead_vectors.h"
#include "bpf/lib/aead_host.h"

namespace {

using aead_vectors::bytes;

std::uint32_t le32(const std::uint8_t *p)
{
	std::uint32_t v;
	std::memcpy(&v, p, 4);
	return v;
}

std::uint64_t le64(const std::uint8_t *p)
{
	std::uint64_t v;
	std::memcpy(&v, p, 8);
	return v;
}

// The RFC's 12-byte nonce as aead.h takes it: le32(fixed part) || le64(counter).
struct Nonce {
	std::uint32_t n0;
	std::uint64_t counter;
};

Nonce split(const std::uint8_t *nonce)
{
	return {le32(nonce), le64(nonce + 4)};
}

// libsodium's answer: ciphertext || tag.
bytes sodium_seal(const bytes &pt, const bytes &aad, const std::uint8_t *key,
		  const std::uint8_t *nonce)
{
	bytes out(pt.size() + crypto_aead_chacha20poly1305_ietf_ABYTES);
	unsigned long long n = 0;

	crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &n, pt.data(), pt.size(), aad.data(),
						  aad.size(), nullptr, nonce, key);
	out.resize(n);
	return out;
}

bytes random_bytes(std::mt19937 &rng, std::size_t n)
{
	bytes b(n);
	for (auto &x : b)
		x = static_cast<std::uint8_t>(rng());
	return b;
}

// Seal with xwg and compare with libsodium, then open both xwg's and libsodium's output.
void check_against_sodium(std::mt19937 &rng, std::size_t len, std::size_t aad_len)
{
	bytes key = random_bytes(rng, 32), nonce = random_bytes(rng, 12);
	bytes pt = random_bytes(rng, len), aad = random_bytes(rng, aad_len);
	Nonce n = split(nonce.data());
	bytes expect = sodium_seal(pt, aad, key.data(), nonce.data());

	bytes buf = pt;
	buf.resize(len + XWG_AEAD_TAG_LEN);
	REQUIRE(xwg_aead_seal(buf.data(), len, aad.data(), aad_len, key.data(), n.n0, n.counter) == 0);
	REQUIRE(buf == expect);
	REQUIRE(xwg_aead_open(buf.data(), len, aad.data(), aad_len, key.data(), n.n0, n.counter) == 0);
	REQUIRE(bytes(buf.begin(), buf.begin() + len) == pt);
	// The tag stays where it was.
	REQUIRE(bytes(buf.begin() + len, buf.end()) == bytes(expect.begin() + len, expect.end()));
}

} // namespace

TEST_CASE("ChaCha20 vectors: RFC 8439 §2.4.2, A.1, A.2", "[aead][rfc]")
{
	for (const auto &v : aead_vectors::chacha) {
		INFO(v.name);
		struct xwg_chacha20 st;
		bytes buf = v.plaintext;

		xwg_chacha20_init(&st, v.key.data(), v.counter, le32(&v.nonce[0]), le32(&v.nonce[4]),
				  le32(&v.nonce[8]));
		xwg_chacha20_xor(&st, buf.data(), buf.size());
		CHECK(buf == v.ciphertext);
	}
}

TEST_CASE("ChaCha20 block function: RFC 8439 A.1 keystreams", "[aead][rfc]")
{
	for (const auto &v : aead_vectors::chacha) {
		if (v.name.rfind("A.1", 0) != 0)
			continue;
		INFO(v.name);
		struct xwg_chacha20 st;
		std::uint32_t ks[16];

		xwg_chacha20_init(&st, v.key.data(), v.counter, le32(&v.nonce[0]), le32(&v.nonce[4]),
				  le32(&v.nonce[8]));
		xwg_chacha20_block(&st, ks);
		CHECK(std::memcmp(ks, v.ciphertext.data(), 64) == 0);
	}
}

TEST_CASE("Poly1305 vectors: RFC 8439 §2.5.2, A.3", "[aead][rfc]")
{
	for (const auto &v : aead_vectors::poly) {
		INFO(v.name);
		std::uint8_t tag[16];

		xwg_poly1305_mac(tag, v.message.data(), v.message.size(), v.key.data());
		CHECK(bytes(tag, tag + 16) == v.tag);
	}
}

TEST_CASE("AEAD vectors: RFC 8439 §2.8.2, A.5", "[aead][rfc]")
{
	for (const auto &v : aead_vectors::aead) {
		INFO(v.name);
		Nonce n = split(v.nonce.data());
		std::uint32_t len = v.plaintext.size();
		bytes sealed = v.ciphertext;
		sealed.insert(sealed.end(), v.tag.begin(), v.tag.end());

		bytes buf = v.plaintext;
		buf.resize(len + 16);
		REQUIRE(xwg_aead_seal(buf.data(), len, v.aad.data(), v.aad.size(), v.key.data(), n.n0,
				      n.counter) == 0);
		CHECK(buf == sealed);

		buf = sealed;
		REQUIRE(xwg_aead_open(buf.data(), len, v.aad.data(), v.aad.size(), v.key.data(), n.n0,
				      n.counter) == 0);
		CHECK(bytes(buf.begin(), buf.begin() + len) == v.plaintext);
	}
}

TEST_CASE("AEAD matches libsodium for every length 0..300", "[aead][sodium]")
{
	REQUIRE(sodium_init() >= 0);
	std::mt19937 rng(8439);
	for (std::size_t len = 0; len <= 300; len++) {
		INFO("len " << len);
		check_against_sodium(rng, len, len % 41); // AAD lengths 0..40 along the way
	}
}

TEST_CASE("AEAD matches libsodium for 5000 random cases up to 1500 bytes", "[aead][sodium]")
{
	REQUIRE(sodium_init() >= 0);
	std::mt19937 rng(1500);
	for (int i = 0; i < 5000; i++) {
		std::size_t len = rng() % 1501;
		std::size_t aad_len = (i % 4 == 0) ? 0 : rng() % 100;
		INFO("case " << i << " len " << len << " aad " << aad_len);
		check_against_sodium(rng, len, aad_len);
	}
}

TEST_CASE("AEAD open fails on any flipped bit or truncation and changes nothing",
	  "[aead][tamper]")
{
	std::mt19937 rng(7539);
	const std::size_t every_bit[] = {0, 1, 15, 16, 17, 63, 64, 65, 114, 128, 129};
	const std::size_t sampled[] = {300, 1024, 1420, 1500};
	bytes key = random_bytes(rng, 32), aad = random_bytes(rng, 12);

	auto sealed_of = [&](std::size_t len) {
		bytes buf = random_bytes(rng, len + 16);
		REQUIRE(xwg_aead_seal(buf.data(), len, aad.data(), aad.size(), key.data(), 0, len) == 0);
		return buf;
	};
	auto must_fail = [&](bytes buf, std::size_t len) {
		const bytes before = buf;
		CHECK(xwg_aead_open(buf.data(), len, aad.data(), aad.size(), key.data(), 0,
				    buf.size() - 16) == XWG_AEAD_ERR_AUTH);
		CHECK(buf == before);
	};

	for (std::size_t len : every_bit) {
		INFO("len " << len << ", every bit");
		const bytes sealed = sealed_of(len);
		for (std::size_t bit = 0; bit < sealed.size() * 8; bit++) {
			bytes buf = sealed;
			buf[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
			must_fail(buf, len);
		}
	}
	for (std::size_t len : sampled) {
		INFO("len " << len << ", sampled bits");
		const bytes sealed = sealed_of(len);
		for (int i = 0; i < 256; i++) {
			std::size_t bit = rng() % (sealed.size() * 8);
			bytes buf = sealed;
			buf[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
			must_fail(buf, len);
		}
	}
	// Truncation: the last k bytes are gone, so what is read as the tag is not the tag.
	// (The counter passed to must_fail is the original length, as the receiver knows it.)
	for (std::size_t len : {0, 1, 16, 65, 300, 1420}) {
		const bytes sealed = sealed_of(len);
		for (std::size_t k = 1; k <= 17 && k <= len + 16; k++) {
			INFO("len " << len << " truncated by " << k);
			if (len + 16 - k < 16)
				continue;
			bytes buf(sealed.begin(), sealed.end() - k);
			const bytes before = buf;
			CHECK(xwg_aead_open(buf.data(), buf.size() - 16, aad.data(), aad.size(), key.data(),
					    0, len) == XWG_AEAD_ERR_AUTH);
			CHECK(buf == before);
		}
	}
}
