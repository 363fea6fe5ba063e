// aead_bpf_test — bpf/lib/aead_bpf.h as the kernel runs it: bpf/xwg_aead_test.bpf.c loaded
// through its skeleton and run with BPF_PROG_TEST_RUN. RFC 8439 AEAD vectors, a
// differential test against libsodium (every length 0..300, 5000 random up to 1500
// bytes), tampering (XDP_DROP and the packet unchanged), and the verifier's count.
#include <catch2/catch.hpp>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <sodium.h>

#include <cstring>
#include <memory>
#include <random>

#include "aead_vectors.h"
#include "bpf_run.h"
#include "xwg_aead_test.skel.h"

namespace {

using aead_vectors::bytes;

enum { OP_SEAL = 0, OP_OPEN = 1 };

struct SkelDeleter {
	void operator()(xwg_aead_test *s) const { xwg_aead_test__destroy(s); }
};
using Skel = std::unique_ptr<xwg_aead_test, SkelDeleter>;

Skel load()
{
	Skel s(xwg_aead_test__open_and_load());
	REQUIRE(s);
	return s;
}

// One AEAD call: the key, nonce and AAD go into .bss, the payload is at @off after
// filler bytes, the tag (or room for it) after the payload.
struct Case {
	bytes key, nonce, aad, payload, tag; // tag: empty for seal (room is made)
	std::uint32_t off = 16;
};

bytes packet_of(const Case &c)
{
	bytes p(c.off, 0xee);
	p.insert(p.end(), c.payload.begin(), c.payload.end());
	if (c.tag.empty())
		p.resize(p.size() + 16, 0);
	else
		p.insert(p.end(), c.tag.begin(), c.tag.end());
	return p;
}

xwgtest::RunResult run(xwg_aead_test *s, int prog_fd, int op, const Case &c)
{
	auto *bss = s->bss;
	std::memcpy(bss->key, c.key.data(), 32);
	std::memset(bss->aad, 0, sizeof(bss->aad));
	if (!c.aad.empty())
		std::memcpy(bss->aad, c.aad.data(), c.aad.size());
	bss->aad_len = c.aad.size();
	std::uint32_t n0;
	std::uint64_t ctr;
	std::memcpy(&n0, c.nonce.data(), 4);
	std::memcpy(&ctr, c.nonce.data() + 4, 8);
	bss->nonce0 = n0;
	bss->counter = ctr;
	bss->off = c.off;
	bss->op = op;
	bss->result = 12345;
	return xwgtest::run_prog(prog_fd, packet_of(c));
}

bytes sodium_seal(const Case &c)
{
	bytes out(c.payload.size() + 16);
	unsigned long long n = 0;
	crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &n, c.payload.data(), c.payload.size(),
						  c.aad.data(), c.aad.size(), nullptr, c.nonce.data(),
						  c.key.data());
	return out;
}

bytes random_bytes(std::mt19937 &rng, std::size_t n)
{
	bytes b(n);
	for (auto &x : b)
		x = static_cast<std::uint8_t>(rng());
	return b;
}

bytes wg_nonce(std::uint64_t counter)
{
	bytes n(12, 0);
	std::memcpy(n.data() + 4, &counter, 8);
	return n;
}

// Seal through @prog, compare with libsodium, open it again through @prog.
void roundtrip(xwg_aead_test *s, int prog, const Case &c, int ok_verdict)
{
	const bytes expect = sodium_seal(c);
	auto r = run(s, prog, OP_SEAL, c);
	REQUIRE(r.verdict == ok_verdict);
	REQUIRE(s->bss->result == 0);
	REQUIRE(bytes(r.out.begin() + c.off, r.out.end()) == expect);

	Case o = c;
	o.payload.assign(expect.begin(), expect.end() - 16);
	o.tag.assign(expect.end() - 16, expect.end());
	r = run(s, prog, OP_OPEN, o);
	REQUIRE(r.verdict == ok_verdict);
	REQUIRE(bytes(r.out.begin() + c.off, r.out.end() - 16) == c.payload);
	REQUIRE(bytes(r.out.end() - 16, r.out.end()) == o.tag);
}

} // namespace

TEST_CASE("AEAD test object passes the verifier", "[aead][bpf][verifier]")
{
	Skel s = load();
	for (auto *p : {s->progs.xwg_aead_test, s->progs.xwg_aead_wg, s->progs.xwg_aead_wg_skb}) {
		std::uint32_t n = xwgtest::verified_insns(bpf_program__fd(p));
		WARN(bpf_program__name(p) << ": " << n << " verified instructions");
		CHECK(n > 0);
		CHECK(n < 1000000);
	}
}

TEST_CASE("AEAD vectors through BPF: RFC 8439 §2.8.2, A.5", "[aead][bpf][rfc]")
{
	Skel s = load();
	int prog = bpf_program__fd(s->progs.xwg_aead_test);
	for (const auto &v : aead_vectors::aead) {
		INFO(v.name);
		Case c{v.key, v.nonce, v.aad, v.plaintext, {}};
		auto r = run(s.get(), prog, OP_SEAL, c);
		CHECK(r.verdict == XDP_TX);
		bytes sealed = v.ciphertext;
		sealed.insert(sealed.end(), v.tag.begin(), v.tag.end());
		CHECK(bytes(r.out.begin() + c.off, r.out.end()) == sealed);

		Case o{v.key, v.nonce, v.aad, v.ciphertext, v.tag};
		r = run(s.get(), prog, OP_OPEN, o);
		CHECK(r.verdict == XDP_TX);
		CHECK(bytes(r.out.begin() + o.off, r.out.end() - 16) == v.plaintext);
	}
}

TEST_CASE("BPF AEAD matches libsodium for every length 0..300", "[aead][bpf][sodium]")
{
	REQUIRE(sodium_init() >= 0);
	Skel s = load();
	int prog = bpf_program__fd(s->progs.xwg_aead_test);
	std::mt19937 rng(300);
	for (std::size_t len = 0; len <= 300; len++) {
		INFO("len " << len);
		Case c{random_bytes(rng, 32), random_bytes(rng, 12), random_bytes(rng, len % 65),
		       random_bytes(rng, len), {}};
		c.off = 14 + len % 7; // odd offsets: misaligned packet words
		roundtrip(s.get(), prog, c, XDP_TX);
	}
}

TEST_CASE("BPF AEAD matches libsodium for 5000 random cases up to 1500 bytes",
	  "[aead][bpf][sodium]")
{
	REQUIRE(sodium_init() >= 0);
	Skel s = load();
	int general = bpf_program__fd(s->progs.xwg_aead_test);
	int wg = bpf_program__fd(s->progs.xwg_aead_wg);
	int wg_skb = bpf_program__fd(s->progs.xwg_aead_wg_skb);
	std::mt19937 rng(1500);
	for (int i = 0; i < 5000; i++) {
		std::size_t len = rng() % 1501;
		INFO("case " << i << " len " << len);
		// A third each: general form with AAD, WireGuard's form on XDP and on an skb.
		switch (i % 3) {
		case 0: {
			Case c{random_bytes(rng, 32), random_bytes(rng, 12), random_bytes(rng, rng() % 65),
			       random_bytes(rng, len), {}};
			c.off = 14 + rng() % 64;
			roundtrip(s.get(), general, c, XDP_TX);
			break;
		}
		case 1: {
			Case c{random_bytes(rng, 32), wg_nonce((std::uint64_t)rng() << 32 | rng()), {},
			       random_bytes(rng, len), {}};
			c.off = 14 + 20 + 8 + 16; // Ethernet, IPv4, UDP, WireGuard data header
			roundtrip(s.get(), wg, c, XDP_TX);
			break;
		}
		default: {
			Case c{random_bytes(rng, 32), wg_nonce(rng()), {}, random_bytes(rng, len), {}};
			c.off = 14 + 40 + 8 + 16; // Ethernet, IPv6, UDP, WireGuard data header
			roundtrip(s.get(), wg_skb, c, TC_ACT_OK);
			break;
		}
		}
	}
}

TEST_CASE("BPF AEAD drops tampered packets and leaves them unchanged", "[aead][bpf][tamper]")
{
	REQUIRE(sodium_init() >= 0);
	Skel s = load();
	int prog = bpf_program__fd(s->progs.xwg_aead_test);
	std::mt19937 rng(7539);

	auto sealed_case = [&](std::size_t len) {
		Case c{random_bytes(rng, 32), random_bytes(rng, 12), random_bytes(rng, 12),
		       random_bytes(rng, len), {}};
		bytes ct = sodium_seal(c);
		c.payload.assign(ct.begin(), ct.end() - 16);
		c.tag.assign(ct.end() - 16, ct.end());
		return c;
	};
	auto must_drop = [&](const Case &c) {
		bytes in = packet_of(c);
		auto r = run(s.get(), prog, OP_OPEN, c);
		CHECK(r.verdict == XDP_DROP);
		CHECK(s->bss->result == -1);
		CHECK(r.out == in);
	};
	auto flip = [](Case c, std::size_t bit) {
		bytes &b = bit / 8 < c.payload.size() ? c.payload : c.tag;
		std::size_t byte = bit / 8 < c.payload.size() ? bit / 8 : bit / 8 - c.payload.size();
		b[byte] ^= static_cast<std::uint8_t>(1u << (bit % 8));
		return c;
	};

	for (std::size_t len : {0, 1, 15, 16, 17, 63, 64, 65, 130}) {
		INFO("len " << len << ", every bit");
		const Case c = sealed_case(len);
		for (std::size_t bit = 0; bit < (len + 16) * 8; bit++)
			must_drop(flip(c, bit));
	}
	for (std::size_t len : {300, 1420, 1500}) {
		INFO("len " << len << ", sampled bits");
		const Case c = sealed_case(len);
		for (int i = 0; i < 200; i++)
			must_drop(flip(c, rng() % ((len + 16) * 8)));
	}
	for (std::size_t len : {1, 64, 1420}) {
		const Case c = sealed_case(len);
		for (std::size_t k = 1; k <= 17 && k <= len; k++) {
			INFO("len " << len << " truncated by " << k);
			Case t = c; // the packet is k bytes shorter: the tag is read k bytes early
			bytes all = t.payload;
			all.insert(all.end(), t.tag.begin(), t.tag.end());
			all.resize(all.size() - k);
			t.payload.assign(all.begin(), all.end() - 16);
			t.tag.assign(all.end() - 16, all.end());
			must_drop(t);
		}
	}
}
