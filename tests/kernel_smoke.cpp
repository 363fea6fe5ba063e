// kernel_smoke.cpp — run inside each guest kernel of the matrix (tests/kernel_matrix.sh):
// loads the real objects and pushes one packet of each kind through BPF_PROG_TEST_RUN:
// a valid data packet decrypts and redirects, a tampered one is dropped, a TX packet
// encrypts; and the key reaper's timer wipes an old keypair. Prints the verifier's instruction
// count of each program. Exit 0 = all good.
#include "dataplane_lab.h"

#include <bpf/bpf.h>
#include <linux/pkt_cls.h>

#include <cstdio>

using namespace xwgtest;

namespace {

int failures = 0;

void expect(bool ok, const char *what)
{
	std::printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

void print_insns(const char *name, int prog_fd)
{
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0)
		std::printf("verified insns %s: %u (xlated %u bytes)\n", name, info.verified_insns,
			    info.xlated_prog_len);
}

} // namespace

int main()
{
	if (sodium_init() < 0)
		return 2;
	try {
		DataplaneLab lab;
		print_insns("xwg_rx", lab.dp.rx_prog_fd());
		print_insns("xwg_tx", lab.dp.tx_prog_fd());
		print_insns("xwg_tun", lab.dp.tun_prog_fd());

		Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 1000);
		auto r = lab.rx(lab.data_frame(lab.peer4, lab.local4, 0, inner));
		expect(r.verdict == XDP_REDIRECT &&
			       Bytes(r.out.begin() + sizeof(ethhdr), r.out.end()) == inner,
		       "rx: valid packet decrypts and redirects");

		Bytes tampered = lab.data_frame(lab.peer4, lab.local4, 1, inner);
		tampered[tampered.size() - 100] ^= 4;
		r = lab.rx(tampered);
		expect(r.verdict == XDP_DROP && lab.drop_count(XWG_DROP_AUTH_FAILED) == 1,
		       "rx: tampered packet is dropped as auth_failed");

		// Beyond a page, the test run hands the frame over as a linear part plus
		// fragments: the multi-buffer path (bpf_xdp_load_bytes/store_bytes, 5.18+).
		Bytes jumbo = inner_packet(lab.peer_in4, lab.our_in4, 8920 - 28);
		r = lab.rx(lab.data_frame(lab.peer4, lab.local4, 2, jumbo));
		expect(r.verdict == XDP_REDIRECT &&
			       Bytes(r.out.begin() + sizeof(ethhdr), r.out.end()) == jumbo,
		       "rx: 8920-byte packet in fragments decrypts and redirects");

		// The daemon's path for reassembled datagrams: xwg_rx_reassembled by test run.
		Bytes out;
		int verdict = lab.dp.run_reassembled(lab.data_frame(lab.peer4, lab.local4, 3, jumbo), 0, out);
		expect(verdict == XDP_REDIRECT && Bytes(out.begin() + sizeof(ethhdr), out.end()) == jumbo,
		       "rx: reassembled 8920-byte datagram decrypts through xwg_rx_reassembled");

		Mac m{2, 0, 0, 0, 0, 1};
		Bytes out_inner = inner_packet(lab.our_in4, lab.peer_in4, 500);
		r = lab.tx(ethernet(m, m, ETH_P_IP, out_inner));
		Bytes msg(r.out.begin() + sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr), r.out.end());
		Bytes plain;
		expect(r.verdict == TC_ACT_REDIRECT && open_data_message(msg, lab.send_key, plain) &&
			       Bytes(plain.begin(), plain.begin() + out_inner.size()) == out_inner &&
			       udp_checksum_ok(r.out),
		       "tx: packet encrypts, libsodium opens it, checksums valid");

		// The key reaper's timer (bpf_timer, bpf_loop in its callback) runs on this
		// kernel: a keypair 3 x REJECT_AFTER_TIME old is wiped, a young one is not.
		auto cfg = lab.dp.config();
		cfg->reject_after_time_ns = 1'000'000'000ULL;
		expect(lab.dp.set_config(*cfg), "key reaper: REJECT_AFTER_TIME 1 s");
		while (boottime_ns() < 3'500'000'000ULL) // a keypair born at 1 ns must be 3 s old
			usleep(100'000);
		xwg_keypair old{};
		std::memset(old.recv_key, 0x77, sizeof(old.recv_key));
		std::memset(old.send_key, 0x77, sizeof(old.send_key));
		old.counter_slot = 50;
		old.birth_ns = 1;
		lab.install_keypair(boottime_ns());
		expect(lab.dp.install_keypair(0x7001, 50, old) &&
			       lab.dp.arm_key_reaper(100'000'000ULL),
		       "key reaper: armed");
		for (int i = 0; i < 40 && lab.dp.key_reaper()->passes < 2; ++i)
			usleep(50'000);
		const auto reaped = lab.dp.keypair(0x7001);
		const auto young = lab.dp.keypair(DataplaneLab::kIndex);
		expect(lab.dp.key_reaper()->passes >= 2 && reaped && young &&
			       (reaped->flags & XWG_KEYPAIR_WIPED) && reaped->recv_key[0] == 0 &&
			       reaped->send_key[31] == 0 && !(young->flags & XWG_KEYPAIR_WIPED) &&
			       std::memcmp(young->recv_key, lab.recv_key.data(), 32) == 0,
		       "key reaper: the old keypair is wiped by the timer, the young one kept");
	} catch (const std::exception &e) {
		std::printf("FAIL: %s\n", e.what());
		return 1;
	}
	return failures ? 1 : 0;
}
