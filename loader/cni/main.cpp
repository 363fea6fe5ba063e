// cni/main.cpp — xwg-cni, the chained CNI plugin (CNI 1.0.0) that puts pods on an xwg
// interface's data plane: the runtime runs it after bridge or ptp with CNI_* in the
// environment and the configuration on stdin; it answers on stdout (cni_plugin.h).
#include "loader/cni/cni_plugin.h"
#include "loader/cni/pod_dataplane.h"

#include <bpf/libbpf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

namespace {

// libbpf's messages go to stderr, which the runtime logs: its warnings only, not the
// netlink errors of the TC queries that find nothing (a clsact or a filter not there yet
// is what xwg-cni expects), which libbpf also prints as warnings.
int libbpf_print(libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || std::strncmp(fmt, "Kernel error message", 20) == 0)
		return 0;
	return std::vfprintf(stderr, fmt, args);
}

} // namespace

int main()
{
	using namespace xwg::cni;
	libbpf_set_print(libbpf_print);
	std::string out;
	int rc;
	try {
		const Env env = read_env([](const char *name) { return std::getenv(name); });
		std::string in;
		if (env.command != Command::version)
			in.assign(std::istreambuf_iterator<char>(std::cin),
				  std::istreambuf_iterator<char>());
		PodDataplane backend("/sys/fs/bpf/xwg");
		rc = run(env, in, out, backend);
	} catch (const Error &e) {
		out = error_result("", e.code(), e.what(), e.details());
		rc = 1;
	}
	std::fputs(out.c_str(), stdout);
	return rc;
}
