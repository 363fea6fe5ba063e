// bpf_run.h — BPF_PROG_TEST_RUN helpers shared by the BPF tests and benchmarks: run a
// loaded program over a packet (once, or `repeat` times for timing) and get its verdict
// and the packet as it left the program; read what the verifier said about a program.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace xwgtest {

struct RunResult {
	int verdict = -1;
	std::vector<uint8_t> out;
	uint32_t duration_ns = 0; // mean per run, as the kernel reports it
};

// Run @prog_fd over @in into @r; 0, or the errno BPF_PROG_TEST_RUN failed with (e.g.
// EINVAL for a TC packet beyond what the kernel builds a test skb of, about a page).
// For XDP the packet must be at least 14 bytes (an Ethernet header). For TC programs,
// @skb (in and out) is the __sk_buff the program sees and leaves, e.g. its mark.
inline int try_run_prog(int prog_fd, const std::vector<uint8_t> &in, RunResult &r, int repeat = 1,
			__sk_buff *skb = nullptr)
{
	r = RunResult{};
	r.out.resize(in.size() + 512);
	// C++ wants the designators in declaration order.
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = r.out.data(),
		    .data_size_in = (__u32)in.size(), .data_size_out = (__u32)r.out.size(),
		    .ctx_in = skb, .ctx_out = skb, .ctx_size_in = skb ? (__u32)sizeof(*skb) : 0u,
		    .ctx_size_out = skb ? (__u32)sizeof(*skb) : 0u, .repeat = repeat);
	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		int err = errno;
		r.out.clear();
		return err;
	}
	r.verdict = static_cast<int>(opts.retval);
	r.out.resize(opts.data_size_out);
	r.duration_ns = opts.duration;
	return 0;
}

// As try_run_prog, but a refused run throws.
inline RunResult run_prog(int prog_fd, const std::vector<uint8_t> &in, int repeat = 1,
			  __sk_buff *skb = nullptr)
{
	RunResult r;
	if (int err = try_run_prog(prog_fd, in, r, repeat, skb))
		throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(err));
	return r;
}

// Instructions the verifier processed to accept the program (bpf_prog_info.verified_insns,
// Linux 5.16+): the number the 1M-instruction budget is about.
inline uint32_t verified_insns(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		throw std::runtime_error(std::string("bpf_obj_get_info_by_fd: ") + std::strerror(errno));
	return info.verified_insns;
}

} // namespace xwgtest
