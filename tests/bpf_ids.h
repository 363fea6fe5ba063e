// bpf_ids.h — BPF maps and programs by id, to check that what a test loaded is freed:
// the id of a map behind an fd, the program that uses a map, whether an id still exists.
#pragma once

#include <bpf/bpf.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace xwgtest {

// The id of the map behind @fd, 0 if it is none.
inline uint32_t bpf_map_id_of(int fd)
{
	bpf_map_info info{};
	__u32 len = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// The id of a loaded program whose name starts with @prefix (names are cut at 15
// characters) and that uses the map @map_id; 0 if there is none.
inline uint32_t bpf_prog_using_map(const std::string &prefix, uint32_t map_id)
{
	uint32_t id = 0;
	while (bpf_prog_get_next_id(id, &id) == 0) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		uint32_t maps[32];
		bpf_prog_info info{};
		info.nr_map_ids = 32;
		info.map_ids = reinterpret_cast<uint64_t>(maps);
		__u32 len = sizeof(info);
		const bool ok = bpf_obj_get_info_by_fd(fd, &info, &len) == 0;
		close(fd);
		if (!ok || std::string(info.name).rfind(prefix.substr(0, 15), 0) != 0)
			continue;
		for (uint32_t i = 0; i < info.nr_map_ids && i < 32; ++i)
			if (maps[i] == map_id)
				return id;
	}
	return 0;
}

inline bool bpf_prog_id_exists(uint32_t id)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

inline bool bpf_map_id_exists(uint32_t id)
{
	int fd = bpf_map_get_fd_by_id(id);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

} // namespace xwgtest
