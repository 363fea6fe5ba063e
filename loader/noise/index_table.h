// noise/index_table.h — the random 32-bit indices that name handshakes and keypairs on the wire
// (whitepaper §5.4: "sender index"). Each is unique among live entries, never zero (zero
// means "none" in the data plane's maps), and maps back to the peer that owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

namespace xwg::noise {

class IndexTable
{
public:
	enum class Kind { handshake, keypair };
	struct Entry {
		Kind kind;
		std::uint32_t peer_id;
	};

	// A fresh random index for `entry`; with @modulus > 1, one that leaves @residue
	// (< modulus) when divided by it (the data plane picks a keypair's decryption CPU
	// as index % CPUs).
	std::uint32_t insert(Entry entry, std::uint32_t modulus = 1, std::uint32_t residue = 0);
	// @index itself (a keypair found in the data plane by a daemon taking over); false
	// when it is zero or taken.
	bool insert_at(std::uint32_t index, Entry entry);
	// Re-point an existing index (a handshake's index becomes its keypair's). False when
	// the index is not live.
	bool replace(std::uint32_t index, Entry entry);
	void remove(std::uint32_t index);
	std::optional<Entry> lookup(std::uint32_t index) const;
	std::size_t size() const { return entries_.size(); }

private:
	std::unordered_map<std::uint32_t, Entry> entries_;
};

} // namespace xwg::noise
