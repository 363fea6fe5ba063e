// kernel/grace_period.cpp — see grace_period.h.
#include "loader/kernel/grace_period.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace xwg {

GracePeriod::GracePeriod()
{
	inner_fd_ = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xwg_grace_in", 4, 4, 1, nullptr);
	if (inner_fd_ >= 0) {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = static_cast<__u32>(inner_fd_));
		outer_fd_ = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "xwg_grace", 4, 4, 1, &opts);
	}
	if (outer_fd_ < 0) {
		const int err = errno;
		if (inner_fd_ >= 0)
			close(inner_fd_);
		throw std::runtime_error(std::string("create grace-period map: ") + std::strerror(err));
	}
}

GracePeriod::~GracePeriod()
{
	close(outer_fd_);
	close(inner_fd_);
}

bool GracePeriod::wait()
{
	std::uint32_t zero = 0;
	int inner = inner_fd_;
	return bpf_map_update_elem(outer_fd_, &zero, &inner, 0) == 0;
}

} // namespace xwg
