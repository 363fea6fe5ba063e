// kernel/map_layout.h — a fingerprint of the data plane's map layout, so a daemon never
// reads maps pinned by a build whose structs differ from its own (include/xwg/maps.h:
// struct xwg_layout).
#pragma once

#include "xwg/maps.h"

#include <string>

struct bpf_object;

namespace xwg {

// BLAKE2b over every named map of @obj in name order: its name, type, key and value
// sizes, entries and flags, and the BTF shape of its key and value types (member names,
// offsets, sizes, array lengths, recursively), plus XWG_LAYOUT_EPOCH. Call after open and
// before load: loading adjusts some maps' sizes.
xwg_layout map_layout_digest(const bpf_object *obj);

// Lower-case hex of the first 8 bytes, for messages.
std::string to_short_hex(const xwg_layout &layout);

} // namespace xwg
