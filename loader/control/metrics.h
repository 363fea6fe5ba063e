// control/metrics.h — the Prometheus text exposition (format 0.0.4) of xwg's interfaces,
// produced by one function from one snapshot, whoever gathered it: `xwg show --metrics`
// (over the UAPI socket and from the pins, cli/show.cpp) and the daemon's own HTTP
// endpoint (device/daemon_metrics.cpp, served by control/metrics_server.h).
//
// WireGuard's families keep the names, types and labels of prometheus_wireguard_exporter
// (MindFlavor's), so dashboards built on it work: wireguard_sent_bytes_total,
// wireguard_received_bytes_total (counters) and wireguard_latest_handshake_seconds (a
// gauge holding the Unix time of the handshake, 0: never), labelled interface,
// public_key, allowed_ips (comma-separated) and, when the peer has an endpoint,
// remote_ip and remote_port (that exporter's -r labels). xwg's own families start with
// xwg_; the README's Metrics section lists them all.
#pragma once

#include "loader/device/device_counters.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xwg {

struct MetricsPeer {
	std::string public_key;		      // base64
	std::string endpoint;		      // "192.0.2.1:51820", "[2001:db8::1]:51820"; "": none
	std::vector<std::string> allowed_ips; // "198.51.100.2/32", ...
	std::int64_t latest_handshake = 0;    // Unix seconds, 0: never
	std::uint64_t rx_bytes = 0, tx_bytes = 0;
};

struct MetricsUnderlay {
	std::string device;
	std::string path; // as `xwg show` prints it: "xdp native", "tc", "none"
};

// One interface at one moment.
struct MetricsSnapshot {
	std::string interface;
	std::vector<MetricsPeer> peers;
	// Every drop reason by its name (include/xwg/drop_reasons.h), zeros included.
	std::map<std::string, std::uint64_t> drops;
	// Packets the data plane accounted to the current peers: sealed by xwg_tx, and
	// authenticated by the receive path (xwg_rx and its TC, cpumap and reassembled
	// variants together: peer_stats does not tell them apart).
	std::uint64_t tx_packets = 0, rx_packets = 0;
	std::vector<MetricsUnderlay> receive;
	std::string tunnel_kind = "veth";
	// The daemon's own counters; nullopt when they could not be read (then their
	// families are left out for this interface).
	std::optional<DeviceCounters> daemon;
};

// The exposition of @interfaces: each family's HELP and TYPE once, then its samples for
// every interface in order. Ends with a newline (empty when there is nothing to say).
std::string metrics_format(const std::vector<MetricsSnapshot> &interfaces);

// A label value with '\\', '"' and newlines escaped as the text format requires.
std::string metrics_escape_label(std::string_view value);

// "192.0.2.1:51820" -> {"192.0.2.1", "51820"}, "[2001:db8::1]:51820" -> {"2001:db8::1",
// "51820"}; nullopt when it is neither.
std::optional<std::pair<std::string, std::string>>
metrics_split_endpoint(std::string_view endpoint);

// The daemon's counters as the daemon writes them for `xwg show --metrics`
// (/run/xwg/IFNAME.counters, JSON), and back; nullopt for text that is not such a file.
std::string device_counters_to_json(const DeviceCounters &c);
std::optional<DeviceCounters> device_counters_from_json(std::string_view text);

} // namespace xwg
