// aead_bench — ChaCha20-Poly1305 seal, three ways, in one run: (a) bpf/lib/aead_bpf.h in
// the kernel (bpf/xwg_aead_test.bpf.c, WireGuard form, XDP) via BPF_PROG_TEST_RUN with
// `repeat`; (b) the same block code on the host (aead_host.h); (c) libsodium. Seal only:
// a repeated open would fail after the first run, since the packet is decrypted in place.
//
// Each figure is the minimum over interleaved trials (this host is noisy). Cycles are TSC
// cycles, calibrated against CLOCK_MONOTONIC. Run as root.
#include <sodium.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bpf/lib/aead_host.h"
#include "bpf_run.h"
#include "xwg_aead_test.skel.h"

namespace {

using clk = std::chrono::steady_clock;

double tsc_ghz()
{
	auto t0 = clk::now();
	unsigned long long c0 = __rdtsc();
	while (clk::now() - t0 < std::chrono::milliseconds(200)) {
	}
	unsigned long long c1 = __rdtsc();
	double ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count();
	return (c1 - c0) / ns;
}

template <typename F> double ns_per_op(int iters, F &&f)
{
	auto t0 = clk::now();
	for (int i = 0; i < iters; i++)
		f();
	return std::chrono::duration<double, std::nano>(clk::now() - t0).count() / iters;
}

} // namespace

int main()
{
	if (sodium_init() < 0)
		return 1;
	xwg_aead_test *skel = xwg_aead_test__open_and_load();
	if (!skel) {
		std::fprintf(stderr, "cannot load xwg_aead_test (root? bpf_loop needs 5.17+)\n");
		return 1;
	}
	const int prog = bpf_program__fd(skel->progs.xwg_aead_wg);
	const unsigned off = 14 + 20 + 8 + 16; // Ethernet, IPv4, UDP, WireGuard header
	for (int i = 0; i < 32; i++)
		skel->bss->key[i] = static_cast<__u8>(i * 7 + 1);
	skel->bss->counter = 42;
	skel->bss->off = off;
	skel->bss->op = 0; // seal

	const unsigned sizes[] = {64, 256, 1420, 1500};
	const int trials = 15, bpf_repeat = 2000, host_iters = 2000;
	const double ghz = tsc_ghz();
	std::vector<double> best_bpf(4, 1e18), best_native(4, 1e18), best_sodium(4, 1e18);
	unsigned char key[32], nonce[12] = {0};
	std::memcpy(key, skel->bss->key, 32);

	for (int t = 0; t < trials; t++) {
		for (int s = 0; s < 4; s++) {
			unsigned len = sizes[s];
			std::vector<uint8_t> pkt(off + len + 16, 0xab);
			auto r = xwgtest::run_prog(prog, pkt, bpf_repeat);
			if (r.verdict != XDP_TX) {
				std::fprintf(stderr, "BPF seal failed: verdict %d\n", r.verdict);
				return 1;
			}
			best_bpf[s] = std::min(best_bpf[s], (double)r.duration_ns);

			std::vector<uint8_t> buf(len + 16, 0xab);
			best_native[s] = std::min(best_native[s], ns_per_op(host_iters, [&] {
				xwg_aead_seal(buf.data(), len, nullptr, 0, key, 0, 42);
			}));
			best_sodium[s] = std::min(best_sodium[s], ns_per_op(host_iters, [&] {
				crypto_aead_chacha20poly1305_ietf_encrypt_detached(
					buf.data(), buf.data() + len, nullptr, buf.data(), len, nullptr, 0,
					nullptr, nonce, key);
			}));
		}
	}

	std::printf("ChaCha20-Poly1305 seal, min of %d interleaved trials; TSC %.2f GHz\n", trials,
		    ghz);
	std::printf("%6s | %10s %7s | %10s %7s | %10s %7s | %10s %13s\n", "bytes", "BPF ns/op",
		    "cyc/B", "native ns", "cyc/B", "sodium ns", "cyc/B", "BPF/native",
		    "BPF/libsodium");
	for (int s = 0; s < 4; s++) {
		double n = sizes[s];
		std::printf("%6u | %10.0f %7.2f | %10.0f %7.2f | %10.0f %7.2f | %9.2fx %12.2fx\n",
			    sizes[s], best_bpf[s], best_bpf[s] * ghz / n, best_native[s],
			    best_native[s] * ghz / n, best_sodium[s], best_sodium[s] * ghz / n,
			    best_bpf[s] / best_native[s], best_bpf[s] / best_sodium[s]);
	}
	xwg_aead_test__destroy(skel);
	return 0;
}
