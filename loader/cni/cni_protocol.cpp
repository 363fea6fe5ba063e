// cni/cni_protocol.cpp — see cni_protocol.h.
#include "loader/cni/cni_protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace xwg::cni {
namespace {

using nlohmann::json;

bool supported(const std::string &version)
{
	return std::find(std::begin(SUPPORTED_VERSIONS), std::end(SUPPORTED_VERSIONS), version) !=
	       std::end(SUPPORTED_VERSIONS);
}

// The string field @key of @j: required ones throw INVALID_CONFIG when absent.
std::string string_field(const json &j, const char *key, bool required, const char *where)
{
	auto it = j.find(key);
	if (it == j.end() || it->is_null()) {
		if (required)
			throw Error(INVALID_CONFIG,
				    std::string(where) + ": \"" + key + "\" is missing");
		return "";
	}
	if (!it->is_string())
		throw Error(INVALID_CONFIG,
			    std::string(where) + ": \"" + key + "\" must be a string");
	return it->get<std::string>();
}

std::optional<PodAddress> parse_address(const std::string &cidr)
{
	const std::string ip = cidr.substr(0, cidr.find('/'));
	PodAddress a;
	if (inet_pton(AF_INET, ip.c_str(), a.addr.data()) == 1) {
		a.family = 4;
		return a;
	}
	if (inet_pton(AF_INET6, ip.c_str(), a.addr.data()) == 1) {
		a.family = 6;
		return a;
	}
	return std::nullopt;
}

bool has_sandbox(const json &iface)
{
	auto it = iface.find("sandbox");
	return it != iface.end() && it->is_string() && !it->get<std::string>().empty();
}

} // namespace

Env read_env(const std::function<const char *(const char *)> &get)
{
	auto var = [&](const char *name) {
		const char *v = get(name);
		return std::string(v ? v : "");
	};
	Env env;
	const std::string cmd = var("CNI_COMMAND");
	if (cmd == "ADD")
		env.command = Command::add;
	else if (cmd == "DEL")
		env.command = Command::del;
	else if (cmd == "CHECK")
		env.command = Command::check;
	else if (cmd == "VERSION")
		env.command = Command::version;
	else if (cmd.empty())
		throw Error(INVALID_ENVIRONMENT, "CNI_COMMAND is not set");
	else
		throw Error(INVALID_ENVIRONMENT,
			    "CNI_COMMAND " + cmd + " is not one of ADD, DEL, CHECK, VERSION");
	env.container_id = var("CNI_CONTAINERID");
	env.netns = var("CNI_NETNS");
	env.ifname = var("CNI_IFNAME");
	env.args = var("CNI_ARGS");
	env.path = var("CNI_PATH");
	if (env.command == Command::version)
		return env;
	if (env.container_id.empty())
		throw Error(INVALID_ENVIRONMENT, "CNI_CONTAINERID is not set");
	if (env.ifname.empty())
		throw Error(INVALID_ENVIRONMENT, "CNI_IFNAME is not set");
	// DEL must work when the namespace is gone, so only ADD and CHECK need it.
	if (env.netns.empty() && env.command != Command::del)
		throw Error(INVALID_ENVIRONMENT, "CNI_NETNS is not set");
	return env;
}

NetConf parse_netconf(const std::string &text, Command command)
{
	json j;
	try {
		j = json::parse(text);
	} catch (const json::exception &e) {
		throw Error(DECODE_FAILURE, "the network configuration on stdin is not JSON",
			    e.what());
	}
	if (!j.is_object())
		throw Error(DECODE_FAILURE,
			    "the network configuration on stdin is not a JSON object");
	NetConf conf;
	conf.cni_version = string_field(j, "cniVersion", true, "network configuration");
	if (!supported(conf.cni_version))
		throw Error(INCOMPATIBLE_VERSION,
			    "cniVersion " + conf.cni_version + " is not supported",
			    "xwg-cni supports 0.3.0, 0.3.1, 0.4.0 and 1.0.0");
	if (command == Command::check &&
	    (conf.cni_version == "0.3.0" || conf.cni_version == "0.3.1"))
		throw Error(INCOMPATIBLE_VERSION, "CHECK needs cniVersion 0.4.0 or later");
	conf.name = string_field(j, "name", true, "network configuration");
	conf.interface = string_field(j, "interface", true, "network configuration");
	if (conf.interface.size() > 15 || conf.interface.find('/') != std::string::npos ||
	    conf.interface == "." || conf.interface == "..")
		throw Error(INVALID_CONFIG,
			    "\"interface\": " + conf.interface + " is no interface name");
	auto prev = j.find("prevResult");
	if (prev != j.end() && !prev->is_null()) {
		if (!prev->is_object())
			throw Error(INVALID_CONFIG, "\"prevResult\" must be an object");
		conf.prev_result = *prev;
	}
	if (!conf.prev_result && command != Command::del)
		throw Error(INVALID_CONFIG, "no prevResult: xwg-cni is a chained plugin and runs "
					    "after one that creates "
					    "the pod's interface (bridge or ptp)");
	return conf;
}

std::string to_string(const PodAddress &a)
{
	char buf[INET6_ADDRSTRLEN] = {};
	inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.addr.data(), buf, sizeof(buf));
	return buf;
}

std::optional<Mac> parse_mac(const std::string &text)
{
	Mac mac{};
	unsigned v[6];
	char tail;
	if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
			&v[4], &v[5], &tail) != 6 ||
	    text.size() != 17)
		return std::nullopt;
	for (int i = 0; i < 6; ++i)
		mac[i] = static_cast<std::uint8_t>(v[i]);
	return mac;
}

PodLink parse_prev_result(const json &prev, const std::string &ifname,
			  const std::function<bool(const std::string &)> &is_host_veth)
{
	auto ifaces = prev.find("interfaces");
	if (ifaces == prev.end() || !ifaces->is_array())
		throw Error(INVALID_CONFIG, "prevResult has no interfaces");
	PodLink link;
	std::optional<std::size_t> pod_index;
	std::vector<std::string> hosts;
	for (std::size_t i = 0; i < ifaces->size(); ++i) {
		const json &iface = (*ifaces)[i];
		if (!iface.is_object())
			throw Error(INVALID_CONFIG, "prevResult: interfaces[" + std::to_string(i) +
							    "] is not an object");
		const std::string name = string_field(iface, "name", true, "prevResult interface");
		if (has_sandbox(iface)) {
			if (name != ifname || pod_index)
				continue;
			pod_index = i;
			link.pod_ifname = name;
			const std::string mac =
				string_field(iface, "mac", true, "prevResult interface");
			auto m = parse_mac(mac);
			if (!m)
				throw Error(INVALID_CONFIG, "prevResult: " + name +
								    " has no valid mac (" + mac +
								    ")");
			link.pod_mac = *m;
		} else if (is_host_veth(name)) {
			hosts.push_back(name);
			if (hosts.size() == 1)
				if (auto m = parse_mac(string_field(iface, "mac", false, "")))
					link.host_mac = *m;
		}
	}
	if (!pod_index)
		throw Error(INVALID_CONFIG,
			    "prevResult names no interface " + ifname + " in a sandbox");
	if (hosts.empty())
		throw Error(INVALID_CONFIG, "prevResult names no veth on the node for " + ifname);
	if (hosts.size() > 1)
		throw Error(INVALID_CONFIG, "prevResult names more than one veth on the node (" +
						    hosts[0] + ", " + hosts[1] + ")");
	link.host_ifname = hosts[0];

	auto ips = prev.find("ips");
	if (ips == prev.end() || !ips->is_array())
		throw Error(INVALID_CONFIG, "prevResult has no ips");
	bool any_named = false;
	for (const json &ip : *ips)
		any_named = any_named || (ip.is_object() && ip.contains("interface"));
	for (const json &ip : *ips) {
		if (!ip.is_object())
			throw Error(INVALID_CONFIG, "prevResult: an entry of ips is not an object");
		if (any_named) {
			auto idx = ip.find("interface");
			if (idx == ip.end() || !idx->is_number_unsigned() ||
			    idx->get<std::size_t>() != *pod_index)
				continue;
		}
		const std::string cidr = string_field(ip, "address", true, "prevResult ips");
		auto a = parse_address(cidr);
		if (!a)
			throw Error(INVALID_CONFIG, "prevResult: " + cidr + " is no address");
		if (std::find(link.addresses.begin(), link.addresses.end(), *a) ==
		    link.addresses.end())
			link.addresses.push_back(*a);
	}
	if (link.addresses.empty())
		throw Error(INVALID_CONFIG, "prevResult gives " + ifname + " no address");
	return link;
}

std::string add_result(const NetConf &conf)
{
	json out = conf.prev_result.value_or(json::object());
	out["cniVersion"] = conf.cni_version;
	return out.dump() + "\n";
}

std::string version_result()
{
	json out = {{"cniVersion", PLUGIN_VERSION}, {"supportedVersions", json::array()}};
	for (const char *v : SUPPORTED_VERSIONS)
		out["supportedVersions"].push_back(v);
	return out.dump() + "\n";
}

std::string error_result(const std::string &cni_version, int code, const std::string &msg,
			 const std::string &details)
{
	json out = {{"cniVersion",
		     cni_version.empty() || !supported(cni_version) ? PLUGIN_VERSION : cni_version},
		    {"code", code},
		    {"msg", msg}};
	if (!details.empty())
		out["details"] = details;
	return out.dump() + "\n";
}

std::uint64_t pod_owner(const std::string &container_id, const std::string &ifname)
{
	std::uint64_t h = 0xcbf29ce484222325ULL;
	auto mix = [&](const std::string &s) {
		for (unsigned char c : s) {
			h ^= c;
			h *= 0x100000001b3ULL;
		}
		h ^= 0; // a separator no name contains
		h *= 0x100000001b3ULL;
	};
	mix(container_id);
	mix(ifname);
	return h ? h : 1;
}

} // namespace xwg::cni
