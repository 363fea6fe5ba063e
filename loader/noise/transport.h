// noise/transport.h — type-4 transport data in userspace: the same sealing the data plane does,
// for the daemon's keepalives and staged packets and for tests. Nonce: four zero bytes and
// the 64-bit little-endian counter; no associated data; plaintext zero-padded to a multiple
// of 16 (never beyond the MTU).
#pragma once

#include "loader/types/keys.h"
#include "loader/noise/blake2s_kdf.h"

#include <cstdint>
#include <span>

namespace xwg::noise {

enum class TransportError {
	ok,
	too_short,       // shorter than header + tag
	wrong_type,      // header is not type 4
	buffer_too_small,
	auth_failed,     // Poly1305 tag does not verify
};
const char *to_string(TransportError e);

// Bytes a packet of `plain_len` bytes occupies on the wire (header, padded body, tag).
std::size_t transport_len(std::size_t plain_len, std::size_t mtu = 0);

// Seals `plain` into `out` (at least transport_len bytes). mtu 0: pad without limit.
// Returns the packet length, or 0 when `out` is too small.
std::size_t transport_seal(std::span<std::uint8_t> out, const SymmetricKey &key,
			   std::uint32_t receiver_index, std::uint64_t counter, Bytes plain,
			   std::size_t mtu = 0);

struct Opened {
	TransportError error;
	std::uint32_t receiver_index;
	std::uint64_t counter;
	std::size_t len; // plaintext bytes written, padding included
};
// Opens a type-4 packet into `plain` (packet size - 32 bytes suffice). No replay check.
Opened transport_open(std::span<std::uint8_t> plain, const SymmetricKey &key, Bytes packet);

// The bare AEAD with WireGuard's counter nonce (Noise transport messages, test vectors).
void aead_seal(std::uint8_t *out, const SymmetricKey &key, std::uint64_t counter, Bytes plain,
	       Bytes ad);
bool aead_open(std::uint8_t *out, const SymmetricKey &key, std::uint64_t counter, Bytes sealed,
	       Bytes ad);

} // namespace xwg::noise
