// noise/keypair.cpp — boot-time clock and the keypair's map form.
#include "loader/noise/keypair.h"

#include <cstring>
#include <ctime>

namespace xwg::noise {

std::uint64_t boottime_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
	       static_cast<std::uint64_t>(ts.tv_nsec);
}

void to_map_value(const Keypair &keypair, std::uint32_t peer_id, std::uint32_t counter_slot,
		  xwg_keypair &out)
{
	std::memset(&out, 0, sizeof(out));
	std::memcpy(out.recv_key, keypair.receiving.data(), sizeof(out.recv_key));
	std::memcpy(out.send_key, keypair.sending.data(), sizeof(out.send_key));
	out.peer_id = peer_id;
	out.remote_index = keypair.remote_index;
	out.counter_slot = counter_slot;
	out.flags = keypair.initiator ? XWG_KEYPAIR_INITIATOR : 0;
	out.birth_ns = keypair.birth_ns;
}

} // namespace xwg::noise
