// cni_protocol_test.cpp — xwg-cni's side of the CNI specification 1.0.0 without a kernel
// (loader/cni/cni_plugin.h): environment and stdin in, stdout and exit status out, with a
// fake backend that records what the plugin asked of the node. Error cases are rows: the
// input and the spec's code it must answer with.
#include <catch2/catch.hpp>

#include "loader/cni/cni_plugin.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>

using namespace xwg::cni;
using nlohmann::json;

namespace {

// What bridge + host-local hand on: the bridge, the node's veth end, the pod's end, an
// IPv4 and an IPv6 address of the pod and one address of another interface (ignored).
json bridge_result()
{
	return json::parse(R"({
	  "cniVersion": "1.0.0",
	  "interfaces": [
	    {"name": "cni0", "mac": "02:00:5e:00:53:01"},
	    {"name": "veth1a2b3c4d", "mac": "02:00:5e:00:53:02"},
	    {"name": "eth0", "mac": "02:00:5e:00:53:03", "sandbox": "/run/netns/pod1"}],
	  "ips": [
	    {"interface": 2, "address": "198.51.100.5/25", "gateway": "198.51.100.1"},
	    {"interface": 2, "address": "fd00:44::5/64", "gateway": "fd00:44::1"},
	    {"interface": 0, "address": "198.51.100.1/25"}],
	  "routes": [{"dst": "0.0.0.0/0"}],
	  "dns": {}
	})");
}

json netconf(const std::string &version = "1.0.0")
{
	return {{"cniVersion", version},
		{"name", "podnet"},
		{"type", "xwg-cni"},
		{"interface", "xwg0"},
		{"prevResult", bridge_result()}};
}

struct FakeBackend : PodBackend {
	int adds = 0, dels = 0, checks = 0;
	PodLink link;
	bool del_had_link = false;
	int throw_code = 0;	  // > 0: add/del/check throw Error(throw_code)
	bool throw_plain = false; // add throws a std::runtime_error
	bool is_host_veth(const std::string &name) override { return name.rfind("veth", 0) == 0; }
	void add(const Env &, const NetConf &, const PodLink &l) override
	{
		if (throw_code)
			throw Error(throw_code, "refused");
		if (throw_plain)
			throw std::runtime_error("netlink said no");
		adds++;
		link = l;
	}
	void del(const Env &, const NetConf &, const std::optional<PodLink> &l) override
	{
		if (throw_code)
			throw Error(throw_code, "refused");
		dels++;
		del_had_link = l.has_value();
	}
	void check(const Env &, const NetConf &, const PodLink &) override
	{
		if (throw_code)
			throw Error(throw_code, "not there");
		checks++;
	}
};

std::map<std::string, std::string> base_env(const std::string &command)
{
	return {{"CNI_COMMAND", command},
		{"CNI_CONTAINERID", "c0ffee"},
		{"CNI_NETNS", "/run/netns/pod1"},
		{"CNI_IFNAME", "eth0"},
		{"CNI_PATH", "/usr/lib/cni"}};
}

Env env_of(const std::map<std::string, std::string> &vars)
{
	return read_env([&](const char *name) -> const char * {
		auto it = vars.find(name);
		return it == vars.end() ? nullptr : it->second.c_str();
	});
}

struct Outcome {
	int rc;
	std::string out;
};

Outcome invoke(const std::string &command, const std::string &in, FakeBackend &b)
{
	Outcome o;
	o.rc = run(env_of(base_env(command)), in, o.out, b);
	return o;
}

int code_of(const Outcome &o)
{
	json j = json::parse(o.out);
	REQUIRE(j.contains("msg"));
	REQUIRE(j["msg"].is_string());
	return j.at("code").get<int>();
}

} // namespace

TEST_CASE("VERSION lists the versions xwg-cni speaks", "[cni]")
{
	FakeBackend b;
	Outcome o;
	o.rc = run(env_of({{"CNI_COMMAND", "VERSION"}}), "", o.out, b);
	REQUIRE(o.rc == 0);
	json j = json::parse(o.out);
	CHECK(j["cniVersion"] == "1.0.0");
	CHECK(j["supportedVersions"] == json::array({"0.3.0", "0.3.1", "0.4.0", "1.0.0"}));
}

TEST_CASE("ADD learns veth, MAC and addresses from prevResult and passes it on", "[cni]")
{
	FakeBackend b;
	json conf = netconf("0.4.0");
	Outcome o = invoke("ADD", conf.dump(), b);
	REQUIRE(o.rc == 0);
	REQUIRE(b.adds == 1);
	CHECK(b.link.host_ifname == "veth1a2b3c4d");
	REQUIRE(b.link.host_mac);
	CHECK((*b.link.host_mac)[5] == 0x02);
	CHECK(b.link.pod_ifname == "eth0");
	CHECK(b.link.pod_mac[5] == 0x03);
	REQUIRE(b.link.addresses.size() == 2);
	CHECK(to_string(b.link.addresses[0]) == "198.51.100.5");
	CHECK(b.link.addresses[0].family == 4);
	CHECK(to_string(b.link.addresses[1]) == "fd00:44::5");
	CHECK(b.link.addresses[1].family == 6);
	// The result is prevResult, under the configuration's version.
	json expected = bridge_result();
	expected["cniVersion"] = "0.4.0";
	CHECK(json::parse(o.out) == expected);
}

TEST_CASE("ips without interface indices all belong to the pod", "[cni]")
{
	FakeBackend b;
	json conf = netconf();
	for (json &ip : conf["prevResult"]["ips"])
		ip.erase("interface");
	conf["prevResult"]["ips"].erase(2);
	REQUIRE(invoke("ADD", conf.dump(), b).rc == 0);
	CHECK(b.link.addresses.size() == 2);
}

TEST_CASE("DEL is idempotent and needs neither prevResult nor the namespace", "[cni]")
{
	FakeBackend b;
	json conf = netconf();
	Outcome o = invoke("DEL", conf.dump(), b);
	CHECK(o.rc == 0);
	CHECK(o.out.empty());
	CHECK(b.del_had_link);

	conf.erase("prevResult");
	auto vars = base_env("DEL");
	vars.erase("CNI_NETNS");
	o.rc = run(env_of(vars), conf.dump(), o.out, b);
	CHECK(o.rc == 0);
	CHECK(!b.del_had_link);

	// A prevResult that cannot be read (ADD never finished) is no reason to fail.
	conf["prevResult"] = {{"interfaces", json::array()}};
	CHECK(invoke("DEL", conf.dump(), b).rc == 0);
	CHECK(!b.del_had_link);
	CHECK(b.dels == 3);
}

TEST_CASE("CHECK asks the backend and prints nothing", "[cni]")
{
	FakeBackend b;
	Outcome o = invoke("CHECK", netconf().dump(), b);
	CHECK(o.rc == 0);
	CHECK(o.out.empty());
	CHECK(b.checks == 1);
	b.throw_code = NOT_REGISTERED;
	o = invoke("CHECK", netconf().dump(), b);
	CHECK(o.rc == 1);
	CHECK(code_of(o) == NOT_REGISTERED);
}

TEST_CASE("bad environments get code 4", "[cni]")
{
	struct Row {
		const char *what;
		std::map<std::string, std::string> vars;
	};
	auto without = [](const char *command, const char *var) {
		auto v = base_env(command);
		v.erase(var);
		return v;
	};
	const Row rows[] = {
		{"no command", without("ADD", "CNI_COMMAND")},
		{"unknown command", base_env("RESTART")},
		{"ADD without a container id", without("ADD", "CNI_CONTAINERID")},
		{"ADD without an interface", without("ADD", "CNI_IFNAME")},
		{"ADD without a namespace", without("ADD", "CNI_NETNS")},
		{"CHECK without a namespace", without("CHECK", "CNI_NETNS")},
		{"DEL without a container id", without("DEL", "CNI_CONTAINERID")},
	};
	for (const Row &r : rows) {
		INFO(r.what);
		try {
			env_of(r.vars);
			FAIL("no error");
		} catch (const Error &e) {
			CHECK(e.code() == INVALID_ENVIRONMENT);
		}
	}
}

TEST_CASE("bad configurations get the spec's codes and change nothing", "[cni]")
{
	struct Row {
		const char *what;
		const char *command;
		std::string in;
		int code;
	};
	auto edited = [](auto fn) {
		json c = netconf();
		fn(c);
		return c.dump();
	};
	const Row rows[] = {
		{"not JSON", "ADD", "{\"cniVersion\": ", DECODE_FAILURE},
		{"not an object", "ADD", "[1, 2]", DECODE_FAILURE},
		{"unknown version", "ADD", edited([](json &c) { c["cniVersion"] = "2.0.0"; }),
		 INCOMPATIBLE_VERSION},
		{"CHECK before 0.4.0", "CHECK", netconf("0.3.1").dump(), INCOMPATIBLE_VERSION},
		{"no cniVersion", "ADD", edited([](json &c) { c.erase("cniVersion"); }),
		 INVALID_CONFIG},
		{"no interface", "ADD", edited([](json &c) { c.erase("interface"); }),
		 INVALID_CONFIG},
		{"interface not a string", "ADD", edited([](json &c) { c["interface"] = 7; }),
		 INVALID_CONFIG},
		{"interface a path", "ADD", edited([](json &c) { c["interface"] = "../x"; }),
		 INVALID_CONFIG},
		{"no prevResult (ADD)", "ADD", edited([](json &c) { c.erase("prevResult"); }),
		 INVALID_CONFIG},
		{"no prevResult (CHECK)", "CHECK", edited([](json &c) { c.erase("prevResult"); }),
		 INVALID_CONFIG},
		{"no veth on the node", "ADD",
		 edited([](json &c) { c["prevResult"]["interfaces"].erase(1); }), INVALID_CONFIG},
		{"two veths on the node", "ADD", edited([](json &c) {
			 c["prevResult"]["interfaces"].push_back({{"name", "veth9"}});
		 }),
		 INVALID_CONFIG},
		{"no pod interface", "ADD",
		 edited([](json &c) { c["prevResult"]["interfaces"][2]["name"] = "net1"; }),
		 INVALID_CONFIG},
		{"pod interface without MAC", "ADD",
		 edited([](json &c) { c["prevResult"]["interfaces"][2].erase("mac"); }),
		 INVALID_CONFIG},
		{"pod MAC malformed", "ADD", edited([](json &c) {
			 c["prevResult"]["interfaces"][2]["mac"] = "02:00:5e:00:53";
		 }),
		 INVALID_CONFIG},
		{"address malformed", "ADD", edited([](json &c) {
			 c["prevResult"]["ips"][0]["address"] = "198.51.100.300/25";
		 }),
		 INVALID_CONFIG},
		{"no address for the pod", "ADD", edited([](json &c) {
			 c["prevResult"]["ips"].erase(0);
			 c["prevResult"]["ips"].erase(0);
		 }),
		 INVALID_CONFIG},
	};
	for (const Row &r : rows) {
		INFO(r.what);
		FakeBackend b;
		Outcome o = invoke(r.command, r.in, b);
		CHECK(o.rc == 1);
		CHECK(code_of(o) == r.code);
		CHECK(b.adds + b.checks == 0);
	}
}

TEST_CASE("backend failures become error objects", "[cni]")
{
	FakeBackend b;
	b.throw_code = TRY_AGAIN_LATER;
	Outcome o = invoke("ADD", netconf().dump(), b);
	CHECK(o.rc == 1);
	CHECK(code_of(o) == TRY_AGAIN_LATER);
	CHECK(json::parse(o.out)["cniVersion"] == "1.0.0");
	o = invoke("DEL", netconf().dump(), b);
	CHECK(o.rc == 1);

	FakeBackend plain;
	plain.throw_plain = true;
	o = invoke("ADD", netconf().dump(), plain);
	CHECK(o.rc == 1);
	CHECK(code_of(o) == KERNEL_FAILURE);
	CHECK(json::parse(o.out)["msg"] == "netlink said no");
}

TEST_CASE("pod owners tell container and interface apart", "[cni]")
{
	CHECK(pod_owner("c0ffee", "eth0") == pod_owner("c0ffee", "eth0"));
	CHECK(pod_owner("c0ffee", "eth0") != pod_owner("c0ffee", "eth1"));
	CHECK(pod_owner("c0ffee", "eth0") != pod_owner("c0ffe", "eeth0"));
	CHECK(pod_owner("", "") != 0);
	CHECK(parse_mac("02:00:5E:00:53:0a") == Mac{2, 0, 0x5e, 0, 0x53, 0x0a});
	CHECK(!parse_mac("02:00:5e:00:53:0a:"));
	CHECK(!parse_mac("zz:00:5e:00:53:0a"));
}
