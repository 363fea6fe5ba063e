// device/daemon_takeover.cpp — a daemon taking over an interface whose data plane outlived
// its daemon (kill -9, a crash, `xwg restart`, an upgrade); see daemon.h.
#include "loader/device/daemon_impl.h"

#include "loader/control/running_state.h"
#include "loader/kernel/attach.h"

#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace xwg {

// Everything a daemon that died left running, of which this daemon can be the owner:
// the state files, the pins and both ends of the tunnel device.
bool Daemon::Impl::can_take_over() const
{
	for (const auto &f : {state_file_path(ifname), running_file_path(ifname), pin_dir_path(ifname)})
		if (access(f.c_str(), F_OK) != 0)
			return false;
	return link_exists(ifname) && link_exists(hidden);
}

// The data plane kept forwarding while no daemon ran: load the programs anew on the
// pinned maps, put them in the old ones' places in one step each, and rebuild the device
// around the maps. PreUp/PostUp and addresses were done by the first daemon and are not
// done again; the teardown at the end is the same as for an interface set up here.
void Daemon::Impl::take_over(const ParsedConfig &parsed)
{
	const auto began = std::chrono::steady_clock::now();
	const nlohmann::json state = nlohmann::json::parse(read_text_file(state_file_path(ifname)), nullptr,
							   false);
	if (state.is_discarded() || !state.contains("underlays") || !state["underlays"].is_array())
		throw std::runtime_error(state_file_path(ifname) + ": not a state file");
	RunningState running = running_state_from_json(read_text_file(running_file_path(ifname)));
	table = running.config.iface.table;
	if (parsed.config.peers != running.config.peers ||
	    parsed.config.iface.private_key != running.config.iface.private_key)
		daemon_log("%s: the configuration file differs from the running configuration, which "
		    "is kept (`wg syncconf` or a reload applies the file)",
		    ifname.c_str());

	write_file_atomic(pid_file_path(ifname), std::to_string(getpid()) + "\n");
	undo.push_back([this] { unlink(pid_file_path(ifname).c_str()); });
	// PreUp, DNS and PostUp ran for the first daemon; the down this one does later is
	// the whole of wg-quick's (the file's hooks as they are now, as wg-quick reads them
	// at down too).
	wg_quick = parsed.wg_quick;
	config_path = parsed.path;
	file_mtu = parsed.config.iface.mtu != AUTOMATIC_MTU;
	undo.push_back([this] {
		if (up_complete)
			run_hooks("PostDown", wg_quick.post_down, ifname);
	});
	DataplaneOptions opts;
	opts.pin_dir = pin_dir_path(ifname);
	opts.adopt = true;
	try {
		dp = std::make_unique<Dataplane>(opts);
	} catch (const LayoutMismatch &e) {
		throw std::runtime_error(
			ifname + " is running without a daemon, but this xwg cannot take it over: " +
			e.what() + ". It keeps forwarding with its current sessions. Restart it "
			"cleanly: xwg down " + ifname + " && xwg up CONFIG");
	}
	// From here on a failure leaves the data plane running, as a crash would.
	took_over = true;
	undo.push_back([this] {
		dp->unpin();
		rmdir(pin_dir_path(ifname).c_str());
	});
	undo.push_back([this] { link_delete_quiet(nl, ifname); });
	if (!wg_quick.dns_servers.empty())
		undo.push_back([this] { dns_unset(ifname); });
	visible_ifindex = link_ifindex(ifname);
	const int hidden_ifindex = link_ifindex(hidden);

	// Decryption CPUs: the cpumap's entries point at the old program; point them at ours.
	auto cfg = dp->config();
	if (!cfg)
		throw std::runtime_error(std::string("reading the config map: ") + std::strerror(errno));
	if (cfg->rx_cpus >= 2) {
		std::vector<unsigned> cpus(cfg->rx_cpu_ids, cfg->rx_cpu_ids + cfg->rx_cpus);
		dp->enable_rx_cpus(cpus, *cfg);
		if (!dp->set_config(*cfg))
			throw std::runtime_error(std::string("writing the config map: ") +
						 std::strerror(errno));
	}

	// The key reaper's timer moves to this daemon's program (arming an armed one only
	// changes its callback and period).
	if (!dp->arm_key_reaper(XWG_KEY_REAPER_PERIOD_NS))
		throw std::runtime_error(std::string("arming the key reaper: ") + std::strerror(errno));

	tc_ingress_replace(hidden_ifindex, "xwg_tx", dp->tx_prog_fd(), hidden);
	xdp_replace(visible_ifindex, "xwg_tun", dp->tun_prog_fd(), ifname);
	std::vector<unsigned> underlay_ifindex;
	nlohmann::json state_underlays = nlohmann::json::array();
	for (const auto &u : state["underlays"]) {
		const std::string dev = u.value("name", "");
		const int idx = link_ifindex(dev);
		if (u.value("receive", "") == "tc") {
			tc_ingress_replace(idx, "xwg_rx_tc", dp->rx_tc_prog_fd(), dev);
			const int fd = dp->rx_tc_prog_fd();
			undo.push_back([idx, fd] { tc_ingress_detach_prog_quiet(idx, fd); });
		} else {
			xdp_replace(idx, "xwg_rx", dp->rx_prog_fd(), dev);
			const int fd = dp->rx_prog_fd();
			undo.push_back([idx, fd] { xdp_detach_quiet(idx, fd); });
		}
		underlay_ifindex.push_back(static_cast<unsigned>(idx));
		state_underlays.push_back({{"name", dev}, {"ifindex", idx}, {"receive", u.value("receive", "")}});
	}

	udp.set_underlays(underlay_ifindex);
	create_device();
	Device::Found found;
	found.peer_ids = running.peer_ids;
	for (std::uint32_t id = 0; id < XWG_MAX_PEERS; ++id)
		if (auto p = dp->peer(id); p && p->active)
			found.peers[id] = *p;
	found.keypairs = dp->pinned_keypairs();
	found.allowed_ips = dp->pinned_allowed_ips();
	try {
		device->adopt(running.config, found);
	} catch (...) {
		sodium_memzero(found.keypairs.data(), found.keypairs.size() * sizeof(PinnedKeypair));
		throw;
	}
	sodium_memzero(found.keypairs.data(), found.keypairs.size() * sizeof(PinnedKeypair));
	start_serving(state_underlays, parsed);
	up_complete = true;
	const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began);
	daemon_log("%s: took over the running data plane: %zu peers, %zu keypairs, in %.1f ms",
	    ifname.c_str(), found.peers.size(), found.keypairs.size(), ms.count());
}

} // namespace xwg
