// cli/show.cpp — `xwg show [IFNAME|all] [--json|--metrics]`: what `wg show` prints, asked
// of the daemon over its UAPI socket (get=1), plus the data plane's own view read from the
// pins: drop counters by reason and the XDP mode on each underlay. --metrics prints the
// same as Prometheus text (control/metrics.h), with the packets per program from the pins
// and the daemon's own counters from the file it keeps (device/daemon_metrics.h).
#include "loader/cli/commands.h"

#include "loader/control/config_file.h"
#include "loader/device/daemon.h"
#include "loader/device/daemon_metrics.h"
#include "loader/control/metrics.h"
#include "loader/types/keys.h"
#include "loader/kernel/netdev.h"
#include "loader/control/uapi_server.h"
#include "xwg/drop_reasons.h"
#include "xwg/maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

namespace xwg {

namespace {

struct ShownPeer {
	std::string public_key; // base64
	bool preshared = false;
	std::string endpoint;
	std::vector<std::string> allowed_ips;
	std::int64_t handshake_sec = 0;
	std::uint64_t rx = 0, tx = 0;
	unsigned keepalive = 0;
};

struct Shown {
	std::string name;
	std::string public_key;
	unsigned listen_port = 0;
	std::uint32_t fwmark = 0;
	unsigned mtu = 0; // the tunnel device's, as in use (0: unknown)
	std::vector<ShownPeer> peers;
	std::vector<std::pair<std::string, std::string>> receive; // underlay, path in use
	std::map<std::string, std::uint64_t> drops;           // non-zero only
};

std::string uapi_get(const std::string &ifname)
{
	std::string path = UapiServer::socket_path(ifname);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	std::strncpy(sun.sun_path, path.c_str(), sizeof(sun.sun_path) - 1);
	timeval tv{5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0) {
		int err = errno;
		close(fd);
		throw std::runtime_error(ifname + ": cannot reach the daemon at " + path + ": " +
					 std::strerror(err));
	}
	const char request[] = "get=1\n\n";
	if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) < 0) {
		close(fd);
		throw std::runtime_error(ifname + ": sending to the daemon failed");
	}
	std::string reply;
	char buf[4096];
	while (reply.size() < 2 || reply.compare(reply.size() - 2, 2, "\n\n") != 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		reply.append(buf, static_cast<std::size_t>(n));
	}
	close(fd);
	return reply;
}

void parse_get(const std::string &reply, Shown &s)
{
	std::size_t pos = 0;
	ShownPeer *peer = nullptr;
	while (pos < reply.size()) {
		std::size_t end = reply.find('\n', pos);
		if (end == std::string::npos)
			end = reply.size();
		std::string line = reply.substr(pos, end - pos);
		pos = end + 1;
		auto eq = line.find('=');
		if (eq == std::string::npos)
			continue;
		std::string key = line.substr(0, eq), value = line.substr(eq + 1);
		if (key == "errno" && value != "0")
			throw std::runtime_error(s.name + ": the daemon answered errno=" + value);
		if (key == "public_key") {
			s.peers.emplace_back();
			peer = &s.peers.back();
			if (PublicKey k; from_hex(value, k) == KeyParseError::ok)
				peer->public_key = to_base64(k);
		} else if (!peer) {
			if (key == "private_key") {
				if (PrivateKey k; from_hex(value, k) == KeyParseError::ok)
					s.public_key = to_base64(public_key_of(k));
			} else if (key == "listen_port") {
				s.listen_port = static_cast<unsigned>(std::stoul(value));
			} else if (key == "fwmark") {
				s.fwmark = static_cast<std::uint32_t>(std::stoul(value));
			}
		} else if (key == "preshared_key") {
			PresharedKey k;
			peer->preshared = from_hex(value, k) == KeyParseError::ok && !k.is_zero();
		} else if (key == "endpoint") {
			peer->endpoint = value;
		} else if (key == "allowed_ip") {
			peer->allowed_ips.push_back(value);
		} else if (key == "last_handshake_time_sec") {
			peer->handshake_sec = std::stoll(value);
		} else if (key == "rx_bytes") {
			peer->rx = std::stoull(value);
		} else if (key == "tx_bytes") {
			peer->tx = std::stoull(value);
		} else if (key == "persistent_keepalive_interval") {
			peer->keepalive = static_cast<unsigned>(std::stoul(value));
		}
	}
}

// Per-CPU drop counters from the pinned `drops` map, summed, for every reason.
std::map<std::string, std::uint64_t> read_drops(const std::string &ifname)
{
	std::map<std::string, std::uint64_t> out;
	std::string path = pin_dir_path(ifname) + "/" + XWG_MAP_DROPS;
	int fd = bpf_obj_get(path.c_str());
	if (fd < 0)
		return out;
	int ncpu = libbpf_num_possible_cpus();
	std::vector<std::uint64_t> values(ncpu > 0 ? static_cast<std::size_t>(ncpu) : 1);
	for (std::uint32_t r = 0; r < XWG_DROP_REASON_MAX; ++r) {
		std::fill(values.begin(), values.end(), 0);
		if (bpf_map_lookup_elem(fd, &r, values.data()) < 0)
			continue;
		std::uint64_t sum = 0;
		for (auto v : values)
			sum += v;
		out[xwg_drop_reason_name(static_cast<xwg_drop_reason>(r))] = sum;
	}
	close(fd);
	return out;
}

// Packets accounted to the active peers (`peers` slots in use), from the pinned per-CPU
// `peer_stats`, summed: what xwg_tx sealed and what the receive path authenticated.
void read_packets(const std::string &ifname, MetricsSnapshot &m)
{
	const std::string dir = pin_dir_path(ifname) + "/";
	const int peers_fd = bpf_obj_get((dir + XWG_MAP_PEERS).c_str());
	const int stats_fd = bpf_obj_get((dir + XWG_MAP_PEER_STATS).c_str());
	const int ncpu = libbpf_num_possible_cpus();
	// Batches of ids: one syscall per map and chunk rather than one per peer.
	constexpr std::uint32_t CHUNK = 1024;
	std::vector<std::uint32_t> keys(CHUNK);
	std::vector<xwg_peer> slots(CHUNK);
	std::vector<xwg_peer_stats> values(static_cast<std::size_t>(CHUNK) *
					   static_cast<std::size_t>(ncpu > 0 ? ncpu : 1));
	const bool readable = peers_fd >= 0 && stats_fd >= 0 && ncpu > 0;
	for (std::uint32_t first = 0; readable && first < XWG_MAX_PEERS; first += CHUNK) {
		// An array's batch token is the key before the first one; none starts at 0.
		std::uint32_t before = first - 1, next = 0, n = CHUNK, n_stats = CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		if (bpf_map_lookup_batch(peers_fd, first ? &before : nullptr, &next, keys.data(),
					 slots.data(), &n, &opts) &&
		    errno != ENOENT)
			break;
		std::vector<bool> active(CHUNK);
		for (std::uint32_t i = 0; i < n; ++i)
			if (keys[i] >= first && keys[i] - first < CHUNK && slots[i].active)
				active[keys[i] - first] = true;
		if (bpf_map_lookup_batch(stats_fd, first ? &before : nullptr, &next, keys.data(),
					 values.data(), &n_stats, &opts) &&
		    errno != ENOENT)
			break;
		for (std::uint32_t i = 0; i < n_stats; ++i) {
			if (keys[i] < first || keys[i] - first >= CHUNK || !active[keys[i] - first])
				continue;
			for (int c = 0; c < ncpu; ++c) {
				const xwg_peer_stats &v = values[i * static_cast<std::size_t>(ncpu) +
								 static_cast<std::size_t>(c)];
				m.tx_packets += v.tx_packets;
				m.rx_packets += v.rx_packets;
			}
		}
	}
	for (int fd : {peers_fd, stats_fd})
		if (fd >= 0)
			close(fd);
}

void read_receive(Shown &s)
{
	std::ifstream f(state_file_path(s.name));
	auto state = nlohmann::json::parse(f, nullptr, false);
	if (state.is_discarded() || !state.contains("underlays"))
		return;
	for (const auto &u : state["underlays"]) {
		// What is attached now, not what the state file says was.
		std::string name = u.value("name", "");
		s.receive.emplace_back(name, receive_path_now(name));
	}
}

std::string ago(std::int64_t sec)
{
	std::int64_t d = std::time(nullptr) - sec;
	if (d < 0)
		d = 0;
	std::string out;
	auto part = [&](std::int64_t n, const char *unit) {
		if (!n)
			return;
		if (!out.empty())
			out += ", ";
		out += std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
	};
	part(d / 86400, "day");
	part(d / 3600 % 24, "hour");
	part(d / 60 % 60, "minute");
	part(d % 60, "second");
	return out.empty() ? "Now" : out + " ago";
}

std::string bytes(std::uint64_t b)
{
	char buf[64];
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = static_cast<double>(b);
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		++u;
	}
	if (u == 0)
		std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(b));
	else
		std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[u]);
	return buf;
}

void print_text(const Shown &s)
{
	std::printf("interface: %s\n", s.name.c_str());
	if (!s.public_key.empty())
		std::printf("  public key: %s\n  private key: (hidden)\n", s.public_key.c_str());
	if (s.listen_port)
		std::printf("  listening port: %u\n", s.listen_port);
	if (s.fwmark)
		std::printf("  fwmark: 0x%x\n", s.fwmark);
	if (s.mtu)
		std::printf("  mtu: %u\n", s.mtu);
	for (const auto &[dev, path] : s.receive)
		std::printf("  receive: %s (%s)\n", dev.c_str(), path.c_str());
	if (s.drops.empty()) {
		std::printf("  drops: none\n");
	} else {
		std::printf("  drops:");
		const char *sep = " ";
		for (const auto &[name, n] : s.drops) {
			std::printf("%s%s %llu", sep, name.c_str(), static_cast<unsigned long long>(n));
			sep = ", ";
		}
		std::printf("\n");
	}
	for (const auto &p : s.peers) {
		std::printf("\npeer: %s\n", p.public_key.c_str());
		if (p.preshared)
			std::printf("  preshared key: (hidden)\n");
		if (!p.endpoint.empty())
			std::printf("  endpoint: %s\n", p.endpoint.c_str());
		std::string ips;
		for (const auto &a : p.allowed_ips)
			ips += (ips.empty() ? "" : ", ") + a;
		std::printf("  allowed ips: %s\n", ips.empty() ? "(none)" : ips.c_str());
		if (p.handshake_sec)
			std::printf("  latest handshake: %s\n", ago(p.handshake_sec).c_str());
		if (p.rx || p.tx)
			std::printf("  transfer: %s received, %s sent\n", bytes(p.rx).c_str(),
				    bytes(p.tx).c_str());
		if (p.keepalive)
			std::printf("  persistent keepalive: every %u second%s\n", p.keepalive, p.keepalive == 1 ? "" : "s");
	}
}

nlohmann::json to_json(const Shown &s)
{
	nlohmann::json j;
	j["interface"] = s.name;
	j["public_key"] = s.public_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.public_key);
	j["listen_port"] = s.listen_port;
	j["fwmark"] = s.fwmark;
	j["mtu"] = s.mtu;
	j["receive"] = nlohmann::json::array();
	for (const auto &[dev, path] : s.receive)
		j["receive"].push_back({{"device", dev}, {"path", path}});
	j["drops"] = s.drops;
	j["peers"] = nlohmann::json::array();
	for (const auto &p : s.peers)
		j["peers"].push_back({
			{"public_key", p.public_key},
			{"preshared_key", p.preshared ? nlohmann::json("(hidden)") : nlohmann::json(nullptr)},
			{"endpoint", p.endpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.endpoint)},
			{"allowed_ips", p.allowed_ips},
			{"latest_handshake", p.handshake_sec},
			{"rx_bytes", p.rx},
			{"tx_bytes", p.tx},
			{"persistent_keepalive", p.keepalive},
		});
	return j;
}

// The snapshot `--metrics` prints: what `xwg show` gathered, every drop reason, the
// packets per program and the daemon's counters file.
MetricsSnapshot to_metrics(const Shown &s, const std::map<std::string, std::uint64_t> &drops)
{
	MetricsSnapshot m;
	m.interface = s.name;
	for (const ShownPeer &p : s.peers)
		m.peers.push_back({p.public_key, p.endpoint, p.allowed_ips, p.handshake_sec, p.rx, p.tx});
	m.drops = drops;
	read_packets(s.name, m);
	for (const auto &[dev, path] : s.receive)
		m.receive.push_back({dev, path});
	std::ifstream f(counters_file_path(s.name));
	std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	m.daemon = device_counters_from_json(text);
	return m;
}

// Interfaces with a state file, sorted.
std::vector<std::string> running_interfaces()
{
	std::vector<std::string> out;
	if (DIR *d = opendir(XWG_RUN_DIR)) {
		while (dirent *e = readdir(d)) {
			std::string n = e->d_name;
			const std::string suffix = ".state";
			if (n.size() > suffix.size() &&
			    n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
				out.push_back(n.substr(0, n.size() - suffix.size()));
		}
		closedir(d);
	}
	std::sort(out.begin(), out.end());
	return out;
}

int show(const std::string &target, bool json, bool metrics)
{
	bool all = target.empty() || target == "all";
	std::vector<std::string> names = all ? running_interfaces() : std::vector{target};
	if (!all && !interface_name_valid(target)) {
		std::fprintf(stderr, "xwg show: '%s' is not a valid interface name\n", target.c_str());
		return 1;
	}
	if (json && metrics) {
		std::fprintf(stderr, "xwg show: --json and --metrics do not go together\n");
		return 1;
	}
	nlohmann::json list = nlohmann::json::array();
	std::vector<MetricsSnapshot> snapshots;
	int rc = 0;
	bool first = true;
	for (const auto &name : names) {
		Shown s;
		s.name = name;
		try {
			parse_get(uapi_get(name), s);
		} catch (const std::exception &e) {
			std::fprintf(stderr, "xwg show: %s\n", e.what());
			rc = 1;
			continue;
		}
		const auto drops = read_drops(name);
		for (const auto &[reason, n] : drops)
			if (n)
				s.drops[reason] = n;
		read_receive(s);
		s.mtu = link_exists(name) ? link_mtu(static_cast<unsigned>(link_ifindex(name))) : 0;
		if (metrics) {
			snapshots.push_back(to_metrics(s, drops));
		} else if (json) {
			list.push_back(to_json(s));
		} else {
			if (!first)
				std::printf("\n");
			print_text(s);
			first = false;
		}
	}
	if (metrics)
		std::fputs(metrics_format(snapshots).c_str(), stdout);
	if (json) {
		if (all)
			std::printf("%s\n", list.dump(2).c_str());
		else if (!list.empty())
			std::printf("%s\n", list[0].dump(2).c_str());
	}
	return rc;
}

} // namespace

void add_show_command(CLI::App &app)
{
	auto *cmd = app.add_subcommand("show", "Show interfaces: keys, peers, handshakes, transfer, "
					       "drop counters and XDP modes");
	static std::string target;
	static bool json = false;
	static bool metrics = false;
	cmd->add_option("interface", target, "Interface name, or 'all' (default)");
	cmd->add_flag("--json", json, "Print JSON");
	cmd->add_flag("--metrics", metrics,
		      "Print Prometheus text exposition (what MetricsListen serves)");
	cmd->callback([] {
		int rc = show(target, json, metrics);
		if (rc != 0)
			throw CLI::RuntimeError(rc);
	});
}

} // namespace xwg
