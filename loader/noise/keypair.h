// noise/keypair.h — the session a completed handshake produces: the keys the data plane encrypts
// and decrypts with, and the two indices that name it on the wire. A plain struct: the
// daemon keeps it per peer (previous/current/next) and copies it into the `keypairs` map.
#pragma once

#include "loader/types/keys.h"
#include "xwg/maps.h"

#include <cstdint>

namespace xwg::noise {

struct Keypair {
	SymmetricKey sending;
	SymmetricKey receiving;
	std::uint32_t local_index = 0;  // the receiver index peers put in data packets to us
	std::uint32_t remote_index = 0; // the receiver index we put in data packets to them
	std::uint64_t birth_ns = 0;     // CLOCK_BOOTTIME
	bool initiator = false;         // we sent the initiation: we rekey on time
};

// CLOCK_BOOTTIME in nanoseconds, the clock the data plane's bpf_ktime_get_boot_ns reads.
std::uint64_t boottime_ns();

// The `keypairs` map value for this keypair (replay window empty, not yet confirmed).
// The caller wipes `out` when it is done with it.
void to_map_value(const Keypair &keypair, std::uint32_t peer_id, std::uint32_t counter_slot,
		  xwg_keypair &out);

} // namespace xwg::noise
