// control/metrics.cpp — the Prometheus text format of a MetricsSnapshot; see metrics.h.
//
// Every family is written at once with all its samples (the format wants a family's
// lines together, after its HELP and TYPE), so samples are collected per family first and
// families without samples are left out. Values are integers: counters and Unix seconds.
#include "loader/control/metrics.h"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <utility>

namespace xwg {

namespace {

using Labels = std::initializer_list<std::pair<const char *, std::string_view>>;

struct Family {
	Family(const char *n, const char *t, const char *h) : name(n), type(t), help(h) {}

	const char *name;
	const char *type; // "counter" or "gauge"
	const char *help;
	std::string samples;

	void add(Labels labels, std::uint64_t value) { add_to(labels, {}, std::to_string(value)); }
	// @more: labels only some samples have (the endpoint's).
	void add_to(Labels labels, const std::vector<std::pair<std::string, std::string>> &more,
		    const std::string &value)
	{
		samples += name;
		char sep = '{';
		auto label = [&](std::string_view key, std::string_view v) {
			samples += sep;
			samples.append(key)
				.append("=\"")
				.append(metrics_escape_label(v))
				.append("\"");
			sep = ',';
		};
		for (const auto &[key, v] : labels)
			label(key, v);
		for (const auto &[key, v] : more)
			label(key, v);
		if (sep == ',')
			samples += '}';
		samples.append(" ").append(value).append("\n");
	}
};

std::string join(const std::vector<std::string> &items)
{
	std::string out;
	for (const auto &s : items)
		out += (out.empty() ? "" : ",") + s;
	return out;
}

} // namespace

std::string metrics_escape_label(std::string_view value)
{
	std::string out;
	out.reserve(value.size());
	for (char c : value) {
		if (c == '\\')
			out += "\\\\";
		else if (c == '"')
			out += "\\\"";
		else if (c == '\n')
			out += "\\n";
		else
			out += c;
	}
	return out;
}

std::optional<std::pair<std::string, std::string>> metrics_split_endpoint(std::string_view ep)
{
	const std::size_t colon = ep.rfind(':');
	if (colon == std::string_view::npos || colon == 0 || colon + 1 == ep.size())
		return std::nullopt;
	std::string_view host = ep.substr(0, colon), port = ep.substr(colon + 1);
	if (host.front() == '[') {
		if (host.size() < 3 || host.back() != ']')
			return std::nullopt;
		host = host.substr(1, host.size() - 2);
	} else if (host.find(':') != std::string_view::npos) {
		return std::nullopt; // an IPv6 address without brackets
	}
	return std::pair{std::string(host), std::string(port)};
}

std::string metrics_format(const std::vector<MetricsSnapshot> &interfaces)
{
	Family sent("wireguard_sent_bytes_total", "counter",
		    "Bytes sent to the peer, as wg show counts them.");
	Family received("wireguard_received_bytes_total", "counter",
			"Bytes received from the peer.");
	Family handshake(
		"wireguard_latest_handshake_seconds", "gauge",
		"Unix time of the latest completed handshake with the peer (0: none yet).");
	Family drops(
		"xwg_drops_total", "counter",
		"Packets the data plane dropped or handed to the daemon, and handshake messages "
		"the daemon refused, by reason (keepalive and staged are no loss).");
	Family packets("xwg_program_packets_total", "counter",
		       "Packets the data plane accounted to the current peers, by program: xwg_tx "
		       "sealed, xwg_rx authenticated (all receive hooks together: XDP, TC, cpumap, "
		       "reassembled).");
	Family staged("xwg_staged_packets", "gauge",
		      "Inner packets the daemon holds until a session exists, all peers together.");
	Family hs_sent("xwg_handshakes_sent_total", "counter",
		       "Handshake messages sent, by message (initiation, response).");
	Family hs_received("xwg_handshakes_received_total", "counter",
			   "Handshake messages accepted, by message (initiation, response).");
	Family hs_failed("xwg_handshakes_failed_total", "counter",
			 "Handshake messages refused (bad mac1, unknown peer or index, not "
			 "decryptable, replayed), by message.");
	Family hs_abandoned("xwg_handshakes_abandoned_total", "counter",
			    "Handshakes given up after REKEY_ATTEMPT_TIME without an answer.");
	Family cookies_sent("xwg_cookie_replies_sent_total", "counter",
			    "Cookie replies sent to handshake messages while under load.");
	Family cookies_received("xwg_cookie_replies_received_total", "counter",
				"Cookie replies received and accepted.");
	Family receive("xwg_receive_path_info", "gauge",
		       "The receive path attached to each underlay (xdp native, xdp generic, tc, "
		       "none); always 1.");
	Family tunnel("xwg_tunnel_info", "gauge", "The kind of the tunnel device; always 1.");

	for (const MetricsSnapshot &s : interfaces) {
		const std::string_view ifname = s.interface;
		for (const MetricsPeer &p : s.peers) {
			const std::string allowed = join(p.allowed_ips);
			std::vector<std::pair<std::string, std::string>> remote;
			if (auto parts = metrics_split_endpoint(p.endpoint))
				remote = {{"remote_ip", parts->first},
					  {"remote_port", parts->second}};
			const Labels labels{{"interface", ifname},
					    {"public_key", p.public_key},
					    {"allowed_ips", allowed}};
			sent.add_to(labels, remote, std::to_string(p.tx_bytes));
			received.add_to(labels, remote, std::to_string(p.rx_bytes));
			handshake.add_to(labels, remote, std::to_string(p.latest_handshake));
		}
		for (const auto &[reason, n] : s.drops)
			drops.add({{"interface", ifname}, {"reason", reason}}, n);
		packets.add({{"interface", ifname}, {"program", "xwg_tx"}}, s.tx_packets);
		packets.add({{"interface", ifname}, {"program", "xwg_rx"}}, s.rx_packets);
		if (const auto &c = s.daemon) {
			staged.add({{"interface", ifname}}, c->staged_packets);
			hs_sent.add({{"interface", ifname}, {"message", "initiation"}},
				    c->initiations_sent);
			hs_sent.add({{"interface", ifname}, {"message", "response"}},
				    c->responses_sent);
			hs_received.add({{"interface", ifname}, {"message", "initiation"}},
					c->initiations_received);
			hs_received.add({{"interface", ifname}, {"message", "response"}},
					c->responses_received);
			hs_failed.add({{"interface", ifname}, {"message", "initiation"}},
				      c->initiations_failed);
			hs_failed.add({{"interface", ifname}, {"message", "response"}},
				      c->responses_failed);
			hs_abandoned.add({{"interface", ifname}}, c->handshakes_abandoned);
			cookies_sent.add({{"interface", ifname}}, c->cookie_replies_sent);
			cookies_received.add({{"interface", ifname}}, c->cookie_replies_received);
		}
		for (const MetricsUnderlay &u : s.receive)
			receive.add(
				{{"interface", ifname}, {"underlay", u.device}, {"path", u.path}},
				std::uint64_t{1});
		tunnel.add({{"interface", ifname}, {"kind", s.tunnel_kind}}, std::uint64_t{1});
	}

	std::string out;
	for (const Family *f :
	     {&sent, &received, &handshake, &drops, &packets, &staged, &hs_sent, &hs_received,
	      &hs_failed, &hs_abandoned, &cookies_sent, &cookies_received, &receive, &tunnel}) {
		if (f->samples.empty())
			continue;
		out.append("# HELP ").append(f->name).append(" ").append(f->help).append("\n");
		out.append("# TYPE ").append(f->name).append(" ").append(f->type).append("\n");
		out += f->samples;
	}
	return out;
}

// ---- the daemon's counters file -------------------------------------------------------

namespace {

// Field names in the file, and where each goes.
constexpr std::pair<const char *, std::uint64_t DeviceCounters::*> COUNTER_FIELDS[] = {
	{"initiations_sent", &DeviceCounters::initiations_sent},
	{"responses_sent", &DeviceCounters::responses_sent},
	{"initiations_received", &DeviceCounters::initiations_received},
	{"responses_received", &DeviceCounters::responses_received},
	{"initiations_failed", &DeviceCounters::initiations_failed},
	{"responses_failed", &DeviceCounters::responses_failed},
	{"handshakes_abandoned", &DeviceCounters::handshakes_abandoned},
	{"cookie_replies_sent", &DeviceCounters::cookie_replies_sent},
	{"cookie_replies_received", &DeviceCounters::cookie_replies_received},
	{"staged_packets", &DeviceCounters::staged_packets},
};

} // namespace

std::string device_counters_to_json(const DeviceCounters &c)
{
	nlohmann::json j = nlohmann::json::object();
	for (const auto &[name, field] : COUNTER_FIELDS)
		j[name] = c.*field;
	return j.dump() + "\n";
}

std::optional<DeviceCounters> device_counters_from_json(std::string_view text)
{
	auto j = nlohmann::json::parse(text, nullptr, false);
	if (j.is_discarded() || !j.is_object())
		return std::nullopt;
	DeviceCounters c;
	for (const auto &[name, field] : COUNTER_FIELDS) {
		auto it = j.find(name);
		if (it == j.end() || !it->is_number_unsigned())
			return std::nullopt;
		c.*field = it->get<std::uint64_t>();
	}
	return c;
}

} // namespace xwg
