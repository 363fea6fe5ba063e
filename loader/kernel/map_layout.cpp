// kernel/map_layout.cpp — see map_layout.h.
#include "loader/kernel/map_layout.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace xwg {

namespace {

// The shape of BTF type @id as text: kinds, names, sizes and offsets, nested types
// spelled out. Depth-limited: the contract's structs nest two or three levels.
void describe(const btf *b, std::uint32_t id, std::string &out, int depth)
{
	if (depth > 8) {
		out += "...";
		return;
	}
	const btf_type *t = btf__type_by_id(b, id);
	if (!t) {
		out += "?";
		return;
	}
	const char *name = btf__name_by_offset(b, t->name_off);
	out += std::to_string(btf_kind(t)) + ":" + (name ? name : "") + ":";
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_FLOAT:
		out += std::to_string(t->size);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		out += std::to_string(t->size) + "{";
		const btf_member *m = btf_members(t);
		for (unsigned short i = 0; i < btf_vlen(t); ++i, ++m) {
			const char *mn = btf__name_by_offset(b, m->name_off);
			out += std::string(mn ? mn : "") + "@" +
			       std::to_string(btf_member_bit_offset(t, i)) + "/" +
			       std::to_string(btf_member_bitfield_size(t, i)) + "=";
			describe(b, m->type, out, depth + 1);
			out += ";";
		}
		out += "}";
		break;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		out += "[" + std::to_string(a->nelems) + "]";
		describe(b, a->type, out, depth + 1);
		break;
	}
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		describe(b, t->type, out, depth + 1);
		break;
	default:
		break; // pointers and functions have no place in a map value
	}
}

} // namespace

xwg_layout map_layout_digest(const bpf_object *obj)
{
	const btf *b = bpf_object__btf(obj);
	std::vector<std::string> parts;
	bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		const char *name = bpf_map__name(m);
		if (std::strchr(name, '.'))
			continue; // .rodata and friends are each object's own
		std::string s = std::string(name) + "|" + std::to_string(bpf_map__type(m)) + "|" +
				std::to_string(bpf_map__key_size(m)) + "|" +
				std::to_string(bpf_map__value_size(m)) + "|" +
				std::to_string(bpf_map__max_entries(m)) + "|" +
				std::to_string(bpf_map__map_flags(m)) + "|";
		if (b) {
			if (auto k = bpf_map__btf_key_type_id(m))
				describe(b, k, s, 0);
			s += "|";
			if (auto v = bpf_map__btf_value_type_id(m))
				describe(b, v, s, 0);
		}
		parts.push_back(std::move(s));
	}
	std::sort(parts.begin(), parts.end());
	std::string all = "xwg layout epoch " + std::to_string(XWG_LAYOUT_EPOCH) + "\n";
	for (const auto &p : parts)
		all += p + "\n";
	xwg_layout out{};
	crypto_generichash(out.digest, sizeof(out.digest),
			   reinterpret_cast<const unsigned char *>(all.data()), all.size(), nullptr, 0);
	return out;
}

std::string to_short_hex(const xwg_layout &layout)
{
	char hex[17];
	for (int i = 0; i < 8; ++i)
		std::snprintf(hex + 2 * i, 3, "%02x", layout.digest[i]);
	return hex;
}

} // namespace xwg
