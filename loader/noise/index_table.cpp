// noise/index_table.cpp — random unique indices from libsodium's generator.
#include "loader/noise/index_table.h"

#include <sodium.h>

#include <cstdint>

namespace xwg::noise {

std::uint32_t IndexTable::insert(Entry entry, std::uint32_t modulus, std::uint32_t residue)
{
	if (modulus < 1)
		modulus = 1;
	residue %= modulus;
	for (;;) {
		std::uint32_t index = randombytes_random();
		index -= index % modulus;
		if (index > UINT32_MAX - residue)
			continue;
		index += residue;
		if (index == 0)
			continue;
		if (entries_.try_emplace(index, entry).second)
			return index;
	}
}

bool IndexTable::insert_at(std::uint32_t index, Entry entry)
{
	return index != 0 && entries_.try_emplace(index, entry).second;
}

bool IndexTable::replace(std::uint32_t index, Entry entry)
{
	auto it = entries_.find(index);
	if (it == entries_.end())
		return false;
	it->second = entry;
	return true;
}

void IndexTable::remove(std::uint32_t index)
{
	entries_.erase(index);
}

std::optional<IndexTable::Entry> IndexTable::lookup(std::uint32_t index) const
{
	auto it = entries_.find(index);
	if (it == entries_.end())
		return std::nullopt;
	return it->second;
}

} // namespace xwg::noise
