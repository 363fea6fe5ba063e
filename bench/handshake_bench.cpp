// handshake_bench.cpp — WireGuard handshakes per second on one core, per step, and where
// the time goes. Run: build/bench/handshake_bench [iterations]
//
//   create initiation            ephemeral keygen + DH(e, S_r)              2 X25519
//   consume init + create resp   DH(S_r, e_i), then keygen + ee + se        4 X25519
//   consume response             ee + se, then session keys                 2 X25519
//
// The static-static DH is computed once per peer, as in WireGuard. The second table times
// the primitives alone and multiplies by how often each step uses them.
#include "loader/noise/blake2s_kdf.h"
#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

using namespace xwg;
using namespace xwg::noise;
using Clock = std::chrono::steady_clock;

namespace {

double ns_since(Clock::time_point t)
{
	return std::chrono::duration<double, std::nano>(Clock::now() - t).count();
}

// Mean nanoseconds per call of f over n calls.
double time_each(int n, const std::function<void()> &f)
{
	auto t = Clock::now();
	for (int i = 0; i < n; ++i)
		f();
	return ns_since(t) / n;
}

void row(const char *name, double ns, const char *note)
{
	std::printf("| %-30s | %9.1f | %10.0f | %-34s |\n", name, ns / 1000.0, 1e9 / ns, note);
}

} // namespace

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	const int n = argc > 1 ? std::atoi(argv[1]) : 2000;

	Identity alice = Identity::from_private(generate_private_key());
	Identity bob = Identity::from_private(generate_private_key());
	PresharedKey psk = generate_preshared_key();
	Handshake a(alice, bob.public_key, psk);
	Handshake b(bob, alice.public_key, psk);
	PeerLookup lookup = [&](const PublicKey &) { return &b; };

	double t_init = 0, t_resp = 0, t_consume = 0;
	std::uint64_t now = 1;
	for (int i = 0; i < n; ++i) {
		xwg_msg_initiation init;
		xwg_msg_response resp;
		Keypair ka, kb;
		now += 1000000000ULL / 50; // the responder's flood limit
		auto ts = tai64n_from(1000000 + static_cast<std::uint64_t>(i), 0);

		auto t0 = Clock::now();
		if (a.create_initiation(init, 1, ts) != HandshakeError::ok)
			return 1;
		t_init += ns_since(t0);

		auto t1 = Clock::now();
		auto r = Handshake::consume_initiation(
			bob, Bytes(reinterpret_cast<const std::uint8_t *>(&init), sizeof(init)),
			lookup, now);
		if (r.error != HandshakeError::ok || b.create_response(resp, 2) != HandshakeError::ok ||
		    b.begin_session(kb, now) != HandshakeError::ok)
			return 1;
		t_resp += ns_since(t1);

		auto t2 = Clock::now();
		if (a.consume_response(Bytes(reinterpret_cast<const std::uint8_t *>(&resp),
					     sizeof(resp))) != HandshakeError::ok ||
		    a.begin_session(ka, now) != HandshakeError::ok)
			return 1;
		t_consume += ns_since(t2);
		if (!(ka.sending == kb.receiving))
			return 1;
	}
	t_init /= n;
	t_resp /= n;
	t_consume /= n;

	// The primitives.
	PrivateKey k = generate_private_key();
	PublicKey p = public_key_of(generate_private_key());
	SymmetricKey shared, key;
	std::uint8_t h[32], buf[64 + 16] = {};
	const int m = n * 4;
	double x25519 = time_each(m, [&] { (void)dh(shared, k, p); });
	double keygen = time_each(m, [&] { p = public_key_of(k); });
	double blake = time_each(m, [&] { hash(h, {Bytes(h, 32), Bytes(buf, 32)}); });
	double kdf3 = time_each(m, [&] { kdf(h, buf, buf + 32, Bytes(h, 32), Bytes(buf, 32)); });
	double aead = time_each(m, [&] {
		crypto_aead_chacha20poly1305_ietf_encrypt(buf, nullptr, buf, 32, h, 32, nullptr,
							  buf + 64, key.data());
	});
	CookieMaker maker(p);
	xwg_msg_initiation msg{};
	double mac1 = time_each(m, [&] {
		maker.add_macs(std::span(reinterpret_cast<std::uint8_t *>(&msg), sizeof(msg)), 0);
	});

	std::printf("Handshakes on one core, %d iterations (%s)\n\n", n, "mean per operation");
	std::printf("| %-30s | %9s | %10s | %-34s |\n", "step", "us/op", "ops/s", "X25519 work");
	std::printf("|%s|%s|%s|%s|\n", "--------------------------------", "-----------",
		    "------------", "------------------------------------");
	row("create initiation", t_init, "keygen + 1 DH");
	row("consume init + create resp", t_resp, "1 DH + keygen + 2 DH");
	row("consume response", t_consume, "2 DH");
	row("full handshake (both sides)", t_init + t_resp + t_consume, "2 keygen + 6 DH");

	std::printf("\nPrimitives (libsodium / libb2)\n\n");
	std::printf("| %-30s | %9s | %10s | %-34s |\n", "primitive", "us/op", "ops/s", "note");
	std::printf("|%s|%s|%s|%s|\n", "--------------------------------", "-----------",
		    "------------", "------------------------------------");
	row("X25519 DH", x25519, "crypto_scalarmult");
	row("X25519 keygen (base point)", keygen, "crypto_scalarmult_base");
	row("BLAKE2s mix_hash (64 B)", blake, "libb2");
	row("HKDF KDF3", kdf3, "4 HMAC = 8 BLAKE2s");
	row("ChaCha20-Poly1305 (32 B)", aead, "libsodium IETF");
	row("mac1 (keyed BLAKE2s-128)", mac1, "per handshake message sent");

	double x_init = keygen + x25519, x_resp = keygen + 3 * x25519, x_cons = 2 * x25519;
	std::printf("\nShare of each step spent in X25519: create initiation %.0f%%, "
		    "consume init + response %.0f%%, consume response %.0f%%\n",
		    100 * x_init / t_init, 100 * x_resp / t_resp, 100 * x_cons / t_consume);
	return 0;
}
