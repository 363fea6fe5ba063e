// control/config_file.cpp — the wg-quick file parser. One pass over the lines; each key has a
// small handler that turns the value into model fields or throws with the line's
// position. Section-level checks (missing keys, duplicate peers) run when a section ends.
#include "loader/control/config_file.h"

#include "xwg/maps.h"
#include "xwg/protocol.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace xwg
{
namespace
{

enum class Section { none, interface, peer };

std::string_view trim(std::string_view s)
{
	const char *space = " \t\r\n\v\f";
	std::size_t b = s.find_first_not_of(space);
	if (b == std::string_view::npos)
		return {};
	return s.substr(b, s.find_last_not_of(space) - b + 1);
}

std::string lower(std::string_view s)
{
	std::string out(s);
	std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
		return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	});
	return out;
}

std::optional<std::uint32_t> parse_hex32(std::string_view s)
{
	if (s.empty() || s.size() > 8)
		return std::nullopt;
	std::uint32_t v = 0;
	for (char c : s) {
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return std::nullopt;
		v = v << 4 | static_cast<std::uint32_t>(d);
	}
	return v;
}

std::string quoted(std::string_view s)
{
	return "\"" + std::string(s) + "\"";
}

// The keys we know, by lowercase name, with their canonical spelling and section.
struct KeyInfo {
	const char *name;
	Section section;
	bool list; // may repeat; values accumulate
};

const std::map<std::string, KeyInfo> &known_keys()
{
	static const std::map<std::string, KeyInfo> keys = {
		{"privatekey", {"PrivateKey", Section::interface, false}},
		{"listenport", {"ListenPort", Section::interface, false}},
		{"fwmark", {"FwMark", Section::interface, false}},
		{"address", {"Address", Section::interface, true}},
		{"mtu", {"MTU", Section::interface, false}},
		{"table", {"Table", Section::interface, false}},
		{"underlay", {"Underlay", Section::interface, true}},
		{"receivepath", {"ReceivePath", Section::interface, false}},
		{"metricslisten", {"MetricsListen", Section::interface, false}},
		{"dns", {"DNS", Section::interface, true}},
		{"preup", {"PreUp", Section::interface, true}},
		{"postup", {"PostUp", Section::interface, true}},
		{"predown", {"PreDown", Section::interface, true}},
		{"postdown", {"PostDown", Section::interface, true}},
		{"saveconfig", {"SaveConfig", Section::interface, false}},
		{"publickey", {"PublicKey", Section::peer, false}},
		{"presharedkey", {"PresharedKey", Section::peer, false}},
		{"allowedips", {"AllowedIPs", Section::peer, true}},
		{"endpoint", {"Endpoint", Section::peer, false}},
		{"persistentkeepalive", {"PersistentKeepalive", Section::peer, false}},
		{"flowports", {"FlowPorts", Section::peer, false}},
	};
	return keys;
}

// wg-quick's test for a name server among the DNS entries: digits and dots only, or a ':'
// anywhere. Everything else is a search domain.
bool dns_entry_is_server(std::string_view v)
{
	if (v.find(':') != std::string_view::npos)
		return true;
	return std::all_of(v.begin(), v.end(),
			   [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// A name server must be an address resolv.conf takes: IPv4, or IPv6 with an optional
// %scope.
bool dns_server_valid(std::string_view v)
{
	std::string addr(v.substr(0, v.find('%')));
	in6_addr buf;
	if (addr.find(':') == std::string::npos)
		return v.find('%') == std::string_view::npos &&
		       inet_pton(AF_INET, addr.c_str(), &buf) == 1;
	return inet_pton(AF_INET6, addr.c_str(), &buf) == 1 && v.size() != addr.size() + 1;
}

// What a search domain may hold: host-name characters (resolv.conf takes it verbatim).
bool dns_search_valid(std::string_view v)
{
	return std::all_of(v.begin(), v.end(), [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       c == '-' || c == '_' || c == '.';
	});
}

class Parser
{
      public:
	explicit Parser(std::string_view file) : file_(file) {}
	ParsedConfig run(std::string_view text);

      private:
	[[noreturn]] void fail(unsigned line, const std::string &what) const
	{
		throw ConfigError(file_ + ":" + std::to_string(line) + ": " + what);
	}
	[[noreturn]] void fail_key(const std::string &what) const
	{
		fail(line_, std::string(key_) + ": " + what);
	}

	void start_section(std::string_view header);
	void end_section();
	void handle(const KeyInfo &key, std::string_view value);
	std::vector<std::string_view> split_list(std::string_view value) const;

	template <Key K> K parse_key(std::string_view value) const;
	std::uint64_t parse_number(std::string_view value, std::uint64_t min, std::uint64_t max,
				   const char *what) const;
	Endpoint parse_endpoint(std::string_view value) const;

	std::string file_;
	ParsedConfig out_;
	unsigned line_ = 0;
	const char *key_ = "";
	Section section_ = Section::none;
	unsigned section_line_ = 0;
	unsigned interface_line_ = 0;
	unsigned mtu_line_ = 0;
	std::map<std::string, unsigned> seen_; // canonical key -> line, per section
	PeerConfig peer_;
	std::map<PublicKey, unsigned> peer_lines_;  // public key -> [Peer] line
	std::map<Cidr, unsigned> allowed_ip_owner_; // prefix -> [Peer] line
};

ParsedConfig Parser::run(std::string_view text)
{
	while (!text.empty() || line_ == 0) {
		++line_;
		std::size_t nl = text.find('\n');
		std::string_view raw = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
		std::string_view line = trim(raw.substr(0, raw.find('#')));
		if (line.empty())
			continue;
		if (line.front() == '[') {
			start_section(line);
			continue;
		}
		std::size_t eq = line.find('=');
		if (eq == std::string_view::npos)
			fail(line_, quoted(line) + " is not \"Key = Value\"");
		std::string_view name = trim(line.substr(0, eq));
		std::string_view value = trim(line.substr(eq + 1));
		auto it = known_keys().find(lower(name));
		if (it == known_keys().end()) {
			if (section_ == Section::none)
				fail(line_, std::string(name) + ": outside of any section");
			fail(line_,
			     std::string(name) + ": unknown key in " +
				 (section_ == Section::interface ? "[Interface]" : "[Peer]"));
		}
		const KeyInfo &key = it->second;
		key_ = key.name;
		if (section_ == Section::none)
			fail_key("outside of any section");
		if (key.section != section_)
			fail_key(key.section == Section::peer
				     ? "belongs in [Peer], not [Interface]"
				     : "belongs in [Interface], not [Peer]");
		auto [prev, fresh] = seen_.emplace(key.name, line_);
		if (!fresh && !key.list)
			fail_key("already set on line " + std::to_string(prev->second));
		handle(key, value);
	}
	end_section();
	if (interface_line_ == 0)
		throw ConfigError(file_ + ": no [Interface] section");
	if (auto why = mtu_problem(out_.config, out_.config.iface.mtu))
		fail(mtu_line_, "MTU: " + *why);
	return std::move(out_);
}

void Parser::start_section(std::string_view header)
{
	std::string name = lower(header);
	Section next;
	if (name == "[interface]")
		next = Section::interface;
	else if (name == "[peer]")
		next = Section::peer;
	else
		fail(line_,
		     "unknown section " + quoted(header) + " (expected [Interface] or [Peer])");
	end_section();
	if (next == Section::interface && interface_line_ != 0)
		fail(line_, "second [Interface] section (the first is on line " +
				std::to_string(interface_line_) + ")");
	section_ = next;
	section_line_ = line_;
	seen_.clear();
	if (next == Section::interface)
		interface_line_ = line_;
	else
		peer_ = PeerConfig{};
}

void Parser::end_section()
{
	if (section_ == Section::interface && !out_.config.iface.private_key)
		fail(section_line_, "PrivateKey: missing from [Interface]");
	if (section_ != Section::peer)
		return;
	if (!seen_.count("PublicKey"))
		fail(section_line_, "PublicKey: missing from [Peer]");
	auto [prev, fresh] = peer_lines_.emplace(peer_.public_key, section_line_);
	if (!fresh)
		fail(seen_["PublicKey"],
		     "PublicKey: the same peer is already on line " + std::to_string(prev->second));
	for (const Cidr &c : peer_.allowed_ips) {
		auto [owner, added] = allowed_ip_owner_.emplace(c, section_line_);
		if (!added)
			fail(seen_["AllowedIPs"], "AllowedIPs: " + c.to_string() +
						      " already belongs to the peer on line " +
						      std::to_string(owner->second));
	}
	out_.config.peers.push_back(peer_);
}

std::vector<std::string_view> Parser::split_list(std::string_view value) const
{
	std::vector<std::string_view> items;
	if (value.empty())
		return items;
	for (;;) {
		std::size_t comma = value.find(',');
		std::string_view item = trim(value.substr(0, comma));
		if (item.empty())
			fail_key("empty entry in the list");
		items.push_back(item);
		if (comma == std::string_view::npos)
			return items;
		value = value.substr(comma + 1);
	}
}

template <Key K> K Parser::parse_key(std::string_view value) const
{
	K key;
	if (from_base64(value, key) == KeyParseError::ok)
		return key;
	// Tell "not base64" from "base64 of the wrong size": the second is a common
	// copy-paste mistake (a truncated or doubled key).
	if (auto len = base64_decoded_size(value); len && *len != KEY_LEN)
		fail_key("key is " + std::to_string(*len) + " bytes, expected 32");
	fail_key("not a valid key (44 base64 characters ending in '=')");
}

std::uint64_t Parser::parse_number(std::string_view value, std::uint64_t min, std::uint64_t max,
				   const char *what) const
{
	auto n = parse_decimal(value, max);
	if (!n || *n < min)
		fail_key(quoted(value) + " is not " + what);
	return *n;
}

Endpoint Parser::parse_endpoint(std::string_view value) const
{
	auto parts = endpoint_split(value);
	if (!parts)
		fail_key(quoted(value) + " is not HOST:PORT or [IPv6]:PORT");
	auto port = parse_decimal(parts->second, 65535);
	if (!port)
		fail_key(quoted(value) + ": " + quoted(parts->second) + " is not a port (0-65535)");
	if (auto ep = endpoint_parse(value))
		return *ep;
	if (ip_addr_parse(parts->first))
		fail_key(quoted(value) + " is not HOST:PORT or [IPv6]:PORT");
	addrinfo hints{};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	addrinfo *res = nullptr;
	int rc = getaddrinfo(parts->first.c_str(), parts->second.c_str(), &hints, &res);
	if (rc != 0)
		fail_key("cannot resolve " + quoted(parts->first) + ": " + gai_strerror(rc));
	char host[NI_MAXHOST] = "";
	getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), nullptr, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	auto addr = ip_addr_parse(host);
	if (!addr)
		fail_key("cannot resolve " + quoted(parts->first) + " to an address");
	return Endpoint{*addr, static_cast<std::uint16_t>(*port)};
}

void Parser::handle(const KeyInfo &key, std::string_view value)
{
	InterfaceConfig &ifc = out_.config.iface;
	std::string k = key.name;
	if (value.empty() && !key.list)
		fail_key("empty value");

	if (k == "PrivateKey") {
		auto priv = parse_key<PrivateKey>(value);
		if (priv.is_zero())
			fail_key("the all-zero key is not a private key");
		ifc.private_key = priv;
	} else if (k == "ListenPort") {
		ifc.listen_port =
		    static_cast<std::uint16_t>(parse_number(value, 0, 65535, "a port (0-65535)"));
	} else if (k == "FwMark") {
		// wg accepts "off", decimal and 0x-prefixed hex.
		if (lower(value) == "off") {
			ifc.fwmark = 0;
		} else if (value.size() > 2 && lower(value.substr(0, 2)) == "0x") {
			auto mark = parse_hex32(value.substr(2));
			if (!mark)
				fail_key(quoted(value) + " is not a fwmark (off, or 0-4294967295)");
			ifc.fwmark = *mark;
		} else {
			ifc.fwmark = static_cast<std::uint32_t>(
			    parse_number(value, 0, 0xffffffffu, "a fwmark (off, or 0-4294967295)"));
		}
	} else if (k == "Address") {
		for (std::string_view item : split_list(value)) {
			auto c = cidr_parse(item);
			if (!c)
				fail_key(quoted(item) + " is not an address (e.g. 192.0.2.1/24)");
			ifc.addresses.push_back(*c);
		}
	} else if (k == "MTU") {
		static const std::string what = "an MTU xwg carries (" +
						std::to_string(XWG_MIN_MTU) + "-" +
						std::to_string(XWG_MAX_MTU) + ")";
		ifc.mtu = static_cast<unsigned>(
		    parse_number(value, XWG_MIN_MTU, XWG_MAX_MTU, what.c_str()));
		mtu_line_ = line_;
	} else if (k == "Table") {
		std::string t = lower(value);
		if (t == "auto") {
			ifc.table = {};
		} else if (t == "off") {
			ifc.table = {RouteTable::Kind::off, 0};
		} else {
			auto id = parse_decimal(value, 0xffffffffu);
			if (!id || *id == 0)
				fail_key(quoted(value) +
					 " is not a table (auto, off or 1-4294967295)");
			ifc.table = {RouteTable::Kind::number, static_cast<std::uint32_t>(*id)};
		}
	} else if (k == "Underlay") {
		for (std::string_view item : split_list(value)) {
			if (!interface_name_valid(item))
				fail_key(quoted(item) + " is not an interface name");
			if (std::find(ifc.underlays.begin(), ifc.underlays.end(), item) ==
			    ifc.underlays.end())
				ifc.underlays.emplace_back(item);
		}
	} else if (k == "ReceivePath") {
		const std::string v = lower(value);
		if (v == "auto")
			ifc.receive_path = ReceivePath::automatic;
		else if (v == "xdp")
			ifc.receive_path = ReceivePath::xdp;
		else if (v == "tc")
			ifc.receive_path = ReceivePath::tc;
		else
			fail_key(quoted(value) + " is not a receive path (auto, xdp or tc)");
	} else if (k == "DNS") {
		// As wg-quick: commas are spaces, and empty entries vanish.
		std::string spaced(value);
		std::replace(spaced.begin(), spaced.end(), ',', ' ');
		std::istringstream words(spaced);
		for (std::string v; words >> v;) {
			const bool server = dns_entry_is_server(v);
			if (server && !dns_server_valid(v))
				fail_key(quoted(v) + " is not a name server address");
			if (!server && !dns_search_valid(v))
				fail_key(quoted(v) + " is neither an address nor a search domain");
			(server ? out_.wg_quick.dns_servers : out_.wg_quick.dns_search)
				.push_back(v);
		}
	} else if (k == "PreUp" || k == "PostUp" || k == "PreDown" || k == "PostDown") {
		// The whole value is one snippet for bash, commas included; an empty one runs
		// nothing, but is kept (SaveConfig writes it back, as wg-quick does).
		if (value.find('\0') != std::string_view::npos)
			fail_key("a NUL byte cannot be passed to bash");
		WgQuickSettings &w = out_.wg_quick;
		auto &hooks = k == "PreUp"     ? w.pre_up
			      : k == "PostUp"  ? w.post_up
			      : k == "PreDown" ? w.pre_down
					       : w.post_down;
		hooks.emplace_back(value);
	} else if (k == "SaveConfig") {
		// wg-quick compares without case.
		const std::string v = lower(value);
		if (v != "true" && v != "false")
			fail_key(quoted(value) + " is neither true nor false");
		out_.wg_quick.save_config = v == "true";
	} else if (k == "MetricsListen") {
		// Numeric only: the daemon binds it, and a name could resolve to anything.
		auto ep = endpoint_parse(value);
		if (!ep || ep->port == 0)
			fail_key(quoted(value) + " is not ADDRESS:PORT or [IPv6]:PORT with a port "
						 "1-65535 (e.g. 127.0.0.1:9586)");
		out_.metrics_listen = *ep;
	} else if (k == "PublicKey") {
		peer_.public_key = parse_key<PublicKey>(value);
		if (peer_.public_key.is_zero())
			fail_key("the all-zero key is not a public key");
	} else if (k == "PresharedKey") {
		auto psk = parse_key<PresharedKey>(value);
		// As in wg: an all-zero preshared key means none.
		peer_.preshared_key =
			psk.is_zero() ? std::nullopt : std::optional<PresharedKey>(psk);
	} else if (k == "AllowedIPs") {
		for (std::string_view item : split_list(value)) {
			auto c = cidr_parse(item);
			if (!c)
				fail_key(quoted(item) + " is not an IP prefix (e.g. 192.0.2.0/24)");
			peer_.add_allowed_ip(*c);
		}
	} else if (k == "Endpoint") {
		peer_.endpoint = parse_endpoint(value);
	} else if (k == "PersistentKeepalive") {
		if (lower(value) == "off")
			peer_.persistent_keepalive = 0;
		else
			peer_.persistent_keepalive = static_cast<std::uint16_t>(parse_number(
			    value, 0, 65535, "a keepalive interval (off, or 0-65535 seconds)"));
	} else if (k == "FlowPorts") {
		static_assert(XWG_MAX_FLOW_PORTS == 64, "the message below names the bound");
		peer_.flow_ports = static_cast<std::uint16_t>(parse_number(
		    value, 0, XWG_MAX_FLOW_PORTS, "a number of flow ports (0 = off, 1-64)"));
	}
}

} // namespace

ParsedConfig config_parse(std::string_view text, std::string_view file_name)
{
	return Parser(file_name).run(text);
}

ParsedConfig config_load(const std::string &path)
{
	std::string name = path.substr(path.find_last_of('/') + 1);
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw ConfigError(name + ": cannot open " + path + ": " + std::strerror(errno));
	std::ostringstream text;
	text << in.rdbuf();
	if (in.bad())
		throw ConfigError(name + ": cannot read " + path);
	ParsedConfig parsed = config_parse(text.str(), name);
	// SaveConfig writes to the file itself, as wg-quick (readlink -f) does, not over a
	// symlink to it, and from whatever directory the daemon runs in.
	char *real = realpath(path.c_str(), nullptr);
	parsed.path = real ? real : path;
	std::free(real);
	return parsed;
}

bool interface_name_valid(std::string_view name)
{
	if (name.empty() || name.size() > 15 || name == "." || name == "..")
		return false;
	return std::all_of(name.begin(), name.end(), [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       (c != '\0' && std::strchr("_=+.-", c) != nullptr);
	});
}

std::string interface_name_from_path(std::string_view path)
{
	std::string_view base = path.substr(path.find_last_of('/') + 1);
	constexpr std::string_view suffix = ".conf";
	if (base.size() <= suffix.size() || base.substr(base.size() - suffix.size()) != suffix)
		throw ConfigError(std::string(path) + ": the file name must be IFNAME.conf");
	std::string_view name = base.substr(0, base.size() - suffix.size());
	if (!interface_name_valid(name))
		throw ConfigError(std::string(path) + ": " + quoted(name) +
				  " is not a valid interface name (1-15 of a-z A-Z 0-9 _ = + . -)");
	return std::string(name);
}

} // namespace xwg
