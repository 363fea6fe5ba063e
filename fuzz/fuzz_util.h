// fuzz_util.h — what the libFuzzer targets share: a check that turns a broken invariant into
// a crash libFuzzer records (with the input that caused it), the rules every configuration
// model keeps, fixed keys so that seeds and targets agree, and a private network namespace
// so that nothing a target does (the config parser resolves host names) can leave the
// process.
#pragma once

#include "loader/control/device_config.h"
#include "loader/types/keys.h"

#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace xwgfuzz {

// A property the code under test must keep for every input; abort() is a crash to
// libFuzzer, which then saves the input under crash-*.
#define FUZZ_CHECK(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			std::fprintf(stderr, "%s:%d: property violated: %s (%s)\n", __FILE__,      \
				     __LINE__, what, #cond);                                       \
			std::abort();                                                              \
		}                                                                                  \
	} while (0)

// What a configuration holds however it was made (file, UAPI set): no all-zero secrets
// (they mean "none"), each peer once, allowed IPs canonical and each owned by one peer.
inline void check_config_rules(const xwg::DeviceConfig &c)
{
	FUZZ_CHECK(!c.iface.private_key || !c.iface.private_key->is_zero(),
		   "an all-zero private key means none");
	std::set<xwg::PublicKey> keys;
	std::set<xwg::Cidr> prefixes;
	for (const xwg::PeerConfig &p : c.peers) {
		FUZZ_CHECK(keys.insert(p.public_key).second, "each peer appears once");
		FUZZ_CHECK(!p.preshared_key || !p.preshared_key->is_zero(),
			   "an all-zero preshared key means none");
		for (const xwg::Cidr &a : p.allowed_ips) {
			FUZZ_CHECK(a == a.masked(), "allowed IPs are canonical");
			FUZZ_CHECK(prefixes.insert(a).second, "an allowed IP belongs to one peer");
		}
	}
}

// A private key made of @seed only (clamped): the same on every run, so the handshake
// and cookie seeds (fuzz_seeds.cpp) stay valid for the targets.
inline xwg::PrivateKey fixed_private_key(std::uint8_t seed)
{
	xwg::PrivateKey key;
	for (std::size_t i = 0; i < key.size(); i++)
		key.data()[i] = static_cast<std::uint8_t>(seed + 7 * i);
	xwg::clamp(key);
	return key;
}

// Moves the process into a network namespace of its own (as root, else inside a user
// namespace): no interface is up there, so a DNS query fails at once and never leaves.
inline void isolate_network()
{
	if (unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		return;
	std::fprintf(stderr, "fuzz: cannot enter a private network namespace: %s\n",
		     std::strerror(errno));
	std::exit(1);
}

} // namespace xwgfuzz
