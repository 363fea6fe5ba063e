// device/daemon_metrics.cpp — the daemon's snapshot, endpoint and counters file; see
// daemon_metrics.h.
#include "loader/device/daemon_metrics.h"

#include "loader/device/daemon.h"
#include "loader/device/device.h"
#include "loader/kernel/attach.h"
#include "loader/kernel/dataplane.h"
#include "loader/kernel/netdev.h"
#include "xwg/drop_reasons.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace xwg {

std::string counters_file_path(const std::string &ifname)
{
	return std::string(XWG_RUN_DIR) + "/" + ifname + ".counters";
}

std::string receive_path_now(const std::string &device)
{
	try {
		if (!link_exists(device))
			return "none";
		const int idx = link_ifindex(device);
		if (XdpMode mode = xdp_query(idx); mode != XdpMode::none)
			return std::string("xdp ") + to_string(mode);
		if (tc_ingress_has(idx, "xwg_rx_tc"))
			return "tc";
	} catch (const std::exception &) {
		// Gone between the questions.
	}
	return "none";
}

DaemonMetrics::DaemonMetrics(std::string ifname, const Device &device, const Dataplane &dp,
			     std::vector<std::string> underlays,
			     const std::optional<Endpoint> &listen)
	: ifname_(std::move(ifname)), device_(device), dp_(dp), underlays_(std::move(underlays))
{
	if (listen)
		server_ = std::make_unique<MetricsServer>(
			*listen, [this] { return metrics_format({snapshot()}); });
	write_counters(device_.counters());
}

DaemonMetrics::~DaemonMetrics()
{
	server_.reset();
	unlink(counters_file_path(ifname_).c_str());
}

void DaemonMetrics::service()
{
	if (server_)
		server_->service();
}

void DaemonMetrics::tick()
{
	if (++ticks_ % COUNTERS_FILE_TICKS != 0)
		return;
	const DeviceCounters c = device_.counters();
	if (c != written_)
		write_counters(c);
}

void DaemonMetrics::write_counters(const DeviceCounters &c)
{
	// Written whole and renamed over the old one: a reader sees one or the other.
	const std::string path = counters_file_path(ifname_), tmp = path + ".tmp";
	{
		std::ofstream f(tmp, std::ios::trunc);
		f << device_counters_to_json(c);
		if (!f)
			return; // tried again at the next tick
	}
	if (std::rename(tmp.c_str(), path.c_str()) == 0)
		written_ = c;
}

MetricsSnapshot DaemonMetrics::snapshot() const
{
	MetricsSnapshot s;
	s.interface = ifname_;
	const DeviceConfig &config = device_.config();
	// Every peer's counters in one batch read (a lookup per peer would cost a syscall
	// each, with up to 65,536 peers).
	std::uint32_t bound = 0;
	for (const PeerConfig &pc : config.peers)
		if (const Peer *p = device_.peer(pc.public_key))
			bound = std::max(bound, p->id + 1);
	const std::vector<PeerStats> stats = dp_.peer_stats_range(0, bound);
	for (const PeerConfig &pc : config.peers) {
		MetricsPeer m;
		m.public_key = to_base64(pc.public_key);
		for (const Cidr &c : pc.allowed_ips)
			m.allowed_ips.push_back(c.to_string());
		if (pc.endpoint)
			m.endpoint = pc.endpoint->to_string();
		// As Device::runtime() counts them for `wg show`.
		if (const Peer *p = device_.peer(pc.public_key)) {
			const PeerStats st = p->id < stats.size() ? stats[p->id] : PeerStats{};
			m.rx_bytes = st.rx_bytes + p->daemon_rx_bytes;
			m.tx_bytes = st.tx_bytes + p->daemon_tx_bytes;
			m.latest_handshake = p->last_handshake.tv_sec;
			if (p->endpoint)
				m.endpoint = p->endpoint->to_string();
			s.rx_packets += st.rx_packets;
			s.tx_packets += st.tx_packets;
		}
		s.peers.push_back(std::move(m));
	}
	const DropCounters drops = dp_.drops();
	for (std::uint32_t r = 0; r < XWG_DROP_REASON_MAX; ++r)
		s.drops[xwg_drop_reason_name(static_cast<xwg_drop_reason>(r))] = drops[r];
	for (const std::string &u : underlays_)
		s.receive.push_back({u, receive_path_now(u)});
	s.daemon = device_.counters();
	return s;
}

} // namespace xwg
