// device/leftovers.cpp — see leftovers.h.
#include "loader/device/leftovers.h"

#include "loader/control/uapi_server.h"
#include "loader/device/daemon.h"
#include "loader/device/daemon_lock.h"
#include "loader/device/daemon_metrics.h"
#include "loader/kernel/attach.h"
#include "loader/kernel/grace_period.h"
#include "loader/kernel/netdev.h"
#include "xwg/maps.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <vector>

namespace xwg {

namespace {

void remove_dir_files(const std::string &dir)
{
	if (DIR *d = opendir(dir.c_str())) {
		while (dirent *e = readdir(d)) {
			std::string n = e->d_name;
			if (n != "." && n != "..")
				unlink((dir + "/" + n).c_str());
		}
		closedir(d);
	}
	rmdir(dir.c_str());
}

// Ends every session in the pinned maps the way the daemon would: each keypair's slot
// RETIRED first (no program starts using it any more, programs of pods included, which
// `xwg down` does not detach), one kernel grace period, then the keys zeroed in place.
// Unpinning alone would free the memory without clearing it.
void wipe_pinned_keys(const std::string &pin_dir)
{
	const int fd = bpf_obj_get((pin_dir + "/" + XWG_MAP_KEYPAIRS).c_str());
	const int slots_fd = bpf_obj_get((pin_dir + "/" + XWG_MAP_KEYPAIR_SLOTS).c_str());
	const std::size_t len = XWG_MAX_KEYPAIRS * sizeof(xwg_keypair_slot);
	void *mapped = slots_fd < 0 ? MAP_FAILED
				    : mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, slots_fd, 0);
	if (fd >= 0 && mapped != MAP_FAILED) {
		auto *slots = static_cast<xwg_keypair_slot *>(mapped);
		std::vector<std::uint32_t> indices;
		std::uint32_t key = 0, next = 0;
		bool first = true;
		while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
			first = false;
			key = next;
			indices.push_back(key);
			xwg_keypair kp;
			if (bpf_map_lookup_elem_flags(fd, &key, &kp, BPF_F_LOCK) == 0 &&
			    kp.counter_slot < XWG_MAX_KEYPAIRS &&
			    slots[kp.counter_slot].local_index == key)
				std::atomic_ref<std::uint32_t>(slots[kp.counter_slot].state)
					.store(XWG_KEYPAIR_RETIRED);
			sodium_memzero(&kp, sizeof(kp));
		}
		try {
			GracePeriod().wait();
		} catch (const std::exception &) {
			// No grace period: wiping now is still better than leaving the keys.
		}
		for (std::uint32_t index : indices) {
			xwg_keypair kp;
			if (bpf_map_lookup_elem_flags(fd, &index, &kp, BPF_F_LOCK) == 0) {
				sodium_memzero(kp.recv_key, sizeof(kp.recv_key));
				sodium_memzero(kp.send_key, sizeof(kp.send_key));
				bpf_map_update_elem(fd, &index, &kp, BPF_EXIST | BPF_F_LOCK);
				sodium_memzero(&kp, sizeof(kp));
			}
		}
	}
	if (mapped != MAP_FAILED)
		munmap(mapped, len);
	for (int f : {fd, slots_fd})
		if (f >= 0)
			close(f);
}

} // namespace

bool leftovers_exist(const std::string &ifname)
{
	return access(state_file_path(ifname).c_str(), F_OK) == 0 ||
	       access(pin_dir_path(ifname).c_str(), F_OK) == 0;
}

void remove_leftovers(const std::string &ifname)
{
	std::ifstream f(state_file_path(ifname));
	nlohmann::json state = nlohmann::json::parse(f, nullptr, false);
	if (!state.is_discarded() && state.contains("underlays"))
		for (const auto &u : state["underlays"])
			if (u.contains("name") && link_exists(u["name"].get<std::string>())) {
				const int idx = link_ifindex(u["name"].get<std::string>());
				xdp_detach_by_name_quiet(idx, "xwg_rx");
				tc_ingress_detach_by_name_quiet(idx, "xwg_rx_tc");
			}
	try {
		Netlink nl;
		link_delete_quiet(nl, ifname);
	} catch (const std::exception &) {
	}
	wipe_pinned_keys(pin_dir_path(ifname));
	remove_dir_files(pin_dir_path(ifname));
	unlink(UapiServer::socket_path(ifname).c_str());
	for (const auto &p : {state_file_path(ifname), pid_file_path(ifname), log_file_path(ifname),
			      running_file_path(ifname), counters_file_path(ifname)})
		unlink(p.c_str());
}

} // namespace xwg
