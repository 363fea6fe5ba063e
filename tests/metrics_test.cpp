// metrics_test.cpp — the Prometheus exposition (loader/control/metrics.h) from fixed
// snapshots: promtool accepts it (format and lint), label values are escaped, each
// family has its HELP and TYPE once however many interfaces, counters end in _total,
// WireGuard's families carry prometheus_wireguard_exporter's labels; the daemon's
// counters file; the HTTP answers of the endpoint (loader/control/metrics_server.h) for
// each kind of request; and `MetricsListen` in a wg-quick file.
#include <catch2/catch.hpp>

#include "loader/control/config_file.h"
#include "loader/control/metrics.h"
#include "loader/control/metrics_server.h"
#include "metrics_check.h"
#include "sample_keys.h"
#include "xwg/drop_reasons.h"

#include <set>

using namespace xwg;
using xwgtest::metric_samples;
using xwgtest::promtool_check;

namespace {

const std::string KEY_B = sample_keys::PUB2;
const std::string KEY_C = sample_keys::PUB3;

MetricsSnapshot sample(const std::string &ifname)
{
	MetricsSnapshot s;
	s.interface = ifname;
	s.peers.push_back({KEY_B,
			   "192.0.2.2:51820",
			   {"198.51.100.2/32", "fd00:77::2/128"},
			   1764547200,
			   12345,
			   67890});
	s.peers.push_back({KEY_C, "", {}, 0, 0, 0}); // no endpoint, no handshake yet
	for (std::uint32_t r = 0; r < XWG_DROP_REASON_MAX; ++r)
		s.drops[xwg_drop_reason_name(static_cast<xwg_drop_reason>(r))] = r;
	s.tx_packets = 11;
	s.rx_packets = 22;
	s.receive = {{"eth0", "xdp native"}, {"eth1", "tc"}};
	DeviceCounters c;
	c.initiations_sent = 3;
	c.responses_received = 2;
	c.responses_failed = 1;
	c.cookie_replies_sent = 4;
	c.staged_packets = 5;
	s.daemon = c;
	return s;
}

// Lines of @text that start with @prefix.
std::vector<std::string> lines_starting(const std::string &text, const std::string &prefix)
{
	std::vector<std::string> out;
	std::size_t pos = 0;
	while (pos < text.size()) {
		std::size_t end = text.find('\n', pos);
		std::string line = text.substr(pos, end - pos);
		if (line.rfind(prefix, 0) == 0)
			out.push_back(line);
		pos = end == std::string::npos ? text.size() : end + 1;
	}
	return out;
}

} // namespace

TEST_CASE("metrics: promtool accepts the exposition of two interfaces", "[metrics]")
{
	const std::string text = metrics_format({sample("wg0"), sample("wg1")});
	auto r = promtool_check(text);
	INFO(text << "\npromtool:\n" << r.out);
	CHECK(r.rc == 0);
	CHECK(r.out.empty());
}

TEST_CASE("metrics: HELP and TYPE once per family; counters end in _total", "[metrics]")
{
	const std::string text = metrics_format({sample("wg0"), sample("wg1")});
	std::set<std::string> seen;
	for (const auto &line : lines_starting(text, "# TYPE ")) {
		const std::string name = line.substr(7, line.find(' ', 7) - 7);
		INFO(line);
		CHECK(seen.insert(name).second);
		const std::string type = line.substr(line.rfind(' ') + 1);
		CHECK((type == "counter" || type == "gauge"));
		if (type == "counter")
			CHECK(name.ends_with("_total"));
		else
			CHECK(!name.ends_with("_total"));
		CHECK(lines_starting(text, "# HELP " + name + " ").size() == 1);
	}
	CHECK(lines_starting(text, "# HELP ").size() == seen.size());
	for (const char *family :
	     {"wireguard_sent_bytes_total", "wireguard_received_bytes_total",
	      "wireguard_latest_handshake_seconds", "xwg_drops_total", "xwg_program_packets_total",
	      "xwg_staged_packets", "xwg_handshakes_sent_total", "xwg_handshakes_received_total",
	      "xwg_handshakes_failed_total", "xwg_handshakes_abandoned_total",
	      "xwg_cookie_replies_sent_total", "xwg_cookie_replies_received_total",
	      "xwg_receive_path_info", "xwg_tunnel_info"})
		CHECK(seen.count(family) == 1);
	// A family's samples follow its TYPE line without another family in between.
	std::string current;
	for (const auto &line : lines_starting(text, "")) {
		if (line.rfind("# TYPE ", 0) == 0)
			current = line.substr(7, line.find(' ', 7) - 7);
		else if (!line.empty() && line[0] != '#')
			CHECK(line.substr(0, line.find_first_of("{ ")) == current);
	}
}

TEST_CASE("metrics: WireGuard's families carry the exporter's labels and values", "[metrics]")
{
	const auto s = metric_samples(metrics_format({sample("wg0")}));
	const std::string b =
		"{interface=\"wg0\",public_key=\"" + KEY_B +
		"\",allowed_ips=\"198.51.100.2/32,fd00:77::2/128\",remote_ip=\"192.0.2.2\","
		"remote_port=\"51820\"}";
	const std::string c = "{interface=\"wg0\",public_key=\"" + KEY_C + "\",allowed_ips=\"\"}";
	CHECK(s.at("wireguard_sent_bytes_total" + b) == 67890);
	CHECK(s.at("wireguard_received_bytes_total" + b) == 12345);
	CHECK(s.at("wireguard_latest_handshake_seconds" + b) == 1764547200);
	CHECK(s.at("wireguard_sent_bytes_total" + c) == 0);
	CHECK(s.at("wireguard_latest_handshake_seconds" + c) == 0);
	CHECK(s.at("xwg_drops_total{interface=\"wg0\",reason=\"auth_failed\"}") ==
	      static_cast<int>(XWG_DROP_AUTH_FAILED));
	CHECK(s.at("xwg_drops_total{interface=\"wg0\",reason=\"bad_length\"}") == 0);
	CHECK(s.at("xwg_program_packets_total{interface=\"wg0\",program=\"xwg_tx\"}") == 11);
	CHECK(s.at("xwg_program_packets_total{interface=\"wg0\",program=\"xwg_rx\"}") == 22);
	CHECK(s.at("xwg_staged_packets{interface=\"wg0\"}") == 5);
	CHECK(s.at("xwg_handshakes_sent_total{interface=\"wg0\",message=\"initiation\"}") == 3);
	CHECK(s.at("xwg_handshakes_sent_total{interface=\"wg0\",message=\"response\"}") == 0);
	CHECK(s.at("xwg_handshakes_received_total{interface=\"wg0\",message=\"response\"}") == 2);
	CHECK(s.at("xwg_handshakes_failed_total{interface=\"wg0\",message=\"response\"}") == 1);
	CHECK(s.at("xwg_cookie_replies_sent_total{interface=\"wg0\"}") == 4);
	CHECK(s.at("xwg_receive_path_info{interface=\"wg0\",underlay=\"eth0\",path=\"xdp "
		   "native\"}") == 1);
	CHECK(s.at("xwg_receive_path_info{interface=\"wg0\",underlay=\"eth1\",path=\"tc\"}") == 1);
	CHECK(s.at("xwg_tunnel_info{interface=\"wg0\",kind=\"veth\"}") == 1);
	// Every drop reason has its sample.
	std::size_t drops = 0;
	for (const auto &[series, v] : s)
		drops += series.rfind("xwg_drops_total{", 0) == 0;
	CHECK(drops == static_cast<std::size_t>(XWG_DROP_REASON_MAX));
}

TEST_CASE("metrics: without the daemon's counters their families are left out", "[metrics]")
{
	MetricsSnapshot s = sample("wg0");
	s.daemon.reset();
	s.peers.clear();
	const std::string text = metrics_format({s});
	CHECK(text.find("xwg_handshakes_sent_total") == std::string::npos);
	CHECK(text.find("xwg_staged_packets") == std::string::npos);
	CHECK(text.find("wireguard_sent_bytes_total") == std::string::npos);
	CHECK(text.find("xwg_drops_total") != std::string::npos);
	CHECK(promtool_check(text).rc == 0);
	CHECK(metrics_format({}).empty());
}

TEST_CASE("metrics: label values are escaped", "[metrics]")
{
	CHECK(metrics_escape_label("plain") == "plain");
	CHECK(metrics_escape_label("a\"b") == "a\\\"b");
	CHECK(metrics_escape_label("a\\b") == "a\\\\b");
	CHECK(metrics_escape_label("a\nb") == "a\\nb");
	CHECK(metrics_escape_label("\\\"\n") == "\\\\\\\"\\n");
	// Interface and device names cannot hold these, but the formatter does not rely on it.
	MetricsSnapshot s = sample("w\"g\\0");
	s.receive = {{"eth\n0", "tc"}};
	const std::string text = metrics_format({s});
	CHECK(text.find("interface=\"w\\\"g\\\\0\"") != std::string::npos);
	CHECK(text.find("underlay=\"eth\\n0\"") != std::string::npos);
	auto r = promtool_check(text);
	INFO(r.out);
	CHECK(r.rc == 0);
}

TEST_CASE("metrics: endpoints split into remote_ip and remote_port", "[metrics]")
{
	using P = std::pair<std::string, std::string>;
	CHECK(metrics_split_endpoint("192.0.2.1:51820") == P{"192.0.2.1", "51820"});
	CHECK(metrics_split_endpoint("[2001:db8::1]:51820") == P{"2001:db8::1", "51820"});
	CHECK(!metrics_split_endpoint(""));
	CHECK(!metrics_split_endpoint("2001:db8::1"));
	CHECK(!metrics_split_endpoint("192.0.2.1"));
	CHECK(!metrics_split_endpoint("192.0.2.1:"));
	CHECK(!metrics_split_endpoint("[]:1"));
}

TEST_CASE("metrics: the daemon's counters file round-trips; anything else is refused", "[metrics]")
{
	DeviceCounters c;
	c.initiations_sent = 1;
	c.responses_sent = 2;
	c.initiations_received = 3;
	c.responses_received = 4;
	c.initiations_failed = 5;
	c.responses_failed = 6;
	c.handshakes_abandoned = 7;
	c.cookie_replies_sent = 8;
	c.cookie_replies_received = 9;
	c.staged_packets = 10;
	CHECK(device_counters_from_json(device_counters_to_json(c)) == c);
	CHECK(!device_counters_from_json(""));
	CHECK(!device_counters_from_json("[]"));
	CHECK(!device_counters_from_json("{\"initiations_sent\": 1}"));
	CHECK(!device_counters_from_json("{\"initiations_sent\": -1, \"responses_sent\": 2}"));
	auto text = device_counters_to_json(c);
	text.replace(text.find("\"staged_packets\":10"), 19, "\"staged_packets\":\"x\"");
	CHECK(!device_counters_from_json(text));
}

TEST_CASE("metrics endpoint: the answer to each kind of request", "[metrics]")
{
	int renders = 0;
	auto render = [&renders] {
		++renders;
		return std::string("# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n");
	};
	auto ask = [&](const std::string &head) {
		return metrics_http_response(head, render);
	};
	const std::string body = render();
	renders = 0;

	auto ok = ask("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9586\r\nAccept: */*\r\n\r\n");
	CHECK(xwgtest::http_status(ok) == 200);
	CHECK(xwgtest::http_body(ok) == body);
	CHECK(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
	      std::string::npos);
	CHECK(ok.find("Content-Length: " + std::to_string(body.size()) + "\r\n") !=
	      std::string::npos);
	CHECK(ok.find("Connection: close\r\n") != std::string::npos);
	CHECK(renders == 1);
	CHECK(xwgtest::http_status(ask("GET /metrics?name[]=x HTTP/1.0\n\n")) == 200);

	auto head = ask("HEAD /metrics HTTP/1.1\r\n\r\n");
	CHECK(xwgtest::http_status(head) == 200);
	CHECK(xwgtest::http_body(head).empty());
	CHECK(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n") !=
	      std::string::npos);

	renders = 0;
	auto post = ask("POST /metrics HTTP/1.1\r\n\r\n");
	CHECK(xwgtest::http_status(post) == 405);
	CHECK(post.find("Allow: GET, HEAD\r\n") != std::string::npos);
	CHECK(xwgtest::http_status(ask("GET / HTTP/1.1\r\n\r\n")) == 404);
	CHECK(xwgtest::http_status(ask("GET /metrics/ HTTP/1.1\r\n\r\n")) == 404);
	CHECK(xwgtest::http_status(ask("GET /metricsx HTTP/1.1\r\n\r\n")) == 404);
	CHECK(xwgtest::http_status(ask("GET /metrics HTTP/2.0\r\n\r\n")) == 505);
	for (const char *bad :
	     {"\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
	      "GET /metrics HTTP/1.1 x\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
	      "GET /metrics FTP/1.1\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n",
	      "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
	      "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
	      "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
		INFO(bad);
		CHECK(xwgtest::http_status(ask(bad)) == 400);
	}
	CHECK(renders == 0); // only GET and HEAD /metrics cost a snapshot
}

TEST_CASE("MetricsListen in [Interface]: IPv4 or [IPv6] with a port; clear errors", "[metrics]")
{
	const std::string head =
		std::string("[Interface]\nPrivateKey = ") + sample_keys::PRIV1 + "\n";
	CHECK(!config_parse(head, "wg0.conf").metrics_listen);
	auto v4 = config_parse(head + "MetricsListen = 127.0.0.1:9586\n", "wg0.conf");
	REQUIRE(v4.metrics_listen);
	CHECK(v4.metrics_listen->to_string() == "127.0.0.1:9586");
	auto v6 = config_parse(head + "metricslisten = [::1]:9586\n", "wg0.conf");
	REQUIRE(v6.metrics_listen);
	CHECK(v6.metrics_listen->to_string() == "[::1]:9586");
	for (const char *bad : {"localhost:9586", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
				"::1:9586", "[127.0.0.1]:9586", "127.0.0.1:95x6", "[::1]"}) {
		INFO(bad);
		try {
			config_parse(head + "MetricsListen = " + bad + "\n", "wg0.conf");
			FAIL("accepted");
		} catch (const ConfigError &e) {
			CHECK(std::string(e.what()).find("wg0.conf:3: MetricsListen: \"" +
							 std::string(bad) +
							 "\" is not ADDRESS:PORT") == 0);
		}
	}
	CHECK_THROWS_WITH(
		config_parse(head + "MetricsListen = 127.0.0.1:1\nMetricsListen = 127.0.0.1:2\n",
			     "wg0.conf"),
		Catch::Contains("already set on line 3"));
	CHECK_THROWS_WITH(config_parse(head + "\n[Peer]\nPublicKey = " + KEY_B +
					       "\nMetricsListen = 127.0.0.1:1\n",
				       "wg0.conf"),
			  Catch::Contains("belongs in [Interface]"));
}
