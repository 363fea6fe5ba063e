// cni_podman_test.cpp — xwg-cni under a real container runtime (issue 17): podman 4.3 on
// two node namespaces, each with xwg up toward the other node (AllowedIPs: its pod CIDR),
// one container per node from a busybox rootfs on the CNI network "podnet" (bridge +
// host-local + xwg-cni). Podman runs inside each node's namespace (nsenter --net), so its
// bridge plugin makes cni0 there, and keeps everything (storage, state, locks, network
// configuration, IPAM) in a scratch directory per node.
//
//   container A (198.51.100.0/25)                 container B (198.51.100.128/25)
//        |  cni0                                        |  cni0
//   node a: xwg xpNa<pid> uPa<pid> 192.0.2.1 <--> 192.0.2.2 uPb<pid> xwg xpNb<pid> :node b
//
// What it shows: ping and checksummed TCP (busybox nc, sha256sum) from container to
// container across the nodes, the containers' addresses in the pinned `pods` maps, the
// tunnel devices left out of that traffic (fast path), and podman's teardown (`podman rm
// -f`, the plugin's DEL) leaving the maps empty.
//
// This machine's quirks, handled here: crun refuses hybrid cgroups (cgroup v1 with a v2
// hierarchy holding a controller), so the runtime is runc; podman's default rlimits exceed
// the hard limits a container may set here, so nofile and nproc are given.
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include <fstream>
#include <sstream>

using namespace xwg::lab;
using nlohmann::json;

namespace {

constexpr const char *NODE_NS = "pmN"; // + pid + a/b

// A directory that can serve as a container's root: bin/busybox and its applets.
void make_rootfs(const std::string &dir)
{
	must("mkdir -p " + dir + "/bin " + dir + "/tmp " + dir + "/etc");
	must("cp /usr/bin/busybox " + dir + "/bin/busybox");
	for (const char *a : {"sh", "sleep", "ping", "nc", "sha256sum", "cat", "grep", "netstat"})
		must("ln -s busybox " + dir + "/bin/" + a);
}

// The address in a `pods` map entry as bpftool -j shows it (formatted with BTF, else raw
// bytes: family then address), dotted.
std::string pod_entry_ipv4(const json &e)
{
	std::vector<unsigned> b;
	if (e.contains("formatted")) {
		for (const json &x : e["formatted"]["key"]["addr"])
			b.push_back(x.get<unsigned>());
	} else {
		for (std::size_t i = 4; i < e["key"].size(); ++i)
			b.push_back(std::stoul(e["key"][i].get<std::string>(), nullptr, 16));
	}
	if (b.size() < 4)
		return "";
	return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) +
	       "." + std::to_string(b[3]);
}

// A podman command line run inside the namespace at @ns_path with all its state in @dir
// (the node's scratch directory).
std::string podman_at(const std::string &dir, const std::string &ns_path, const std::string &args)
{
	return "CONTAINERS_CONF=" + dir + "/containers.conf nsenter --net=" + ns_path +
	       " podman --root " + dir + "/root --runroot " + dir + "/runroot --tmpdir " + dir +
	       "/tmp --network-config-dir " + dir +
	       "/net.d --cgroup-manager cgroupfs --storage-driver vfs --events-backend file"
	       " --runtime runc " +
	       args;
}

// Where a node's containers and their conmon put their cgroups (podman's default,
// libpod_parent, would stay behind in every hierarchy); @tag: pid and side.
std::string cgroup_parent(const std::string &tag)
{
	return "/xwg-podman-" + tag;
}

// What podman may leave of a node once its containers are gone: mounts under its scratch
// directory and the (empty) cgroups of containers and conmon.
void remove_podman_traces(const std::string &dir, const std::string &tag)
{
	sh("grep -o ' " + dir + "/[^ ]*' /proc/self/mounts | sort -r | xargs -r umount -l");
	sh("for d in /sys/fs/cgroup/*" + cgroup_parent(tag) +
	   "; do [ -d \"$d\" ] && find \"$d\" -depth -type d -exec rmdir {} +; done");
}

// Runs whose process died before its guards ran (killed by a timeout): their containers,
// scratch directories, cgroups and xwg interfaces. Their node namespaces go after this,
// with remove_stale_namespaces.
void remove_stale_runs()
{
	for (const std::string &run : [] {
		     std::vector<std::string> runs;
		     std::istringstream in(sh("ls -d /tmp/xwg-podman-test-* 2>/dev/null").out);
		     for (std::string line; std::getline(in, line);)
			     runs.push_back(line);
		     return runs;
	     }()) {
		const std::string pid = run.substr(run.rfind('-') + 1);
		if (pid == PID || exists("/proc/" + pid))
			continue;
		for (const char side : {'a', 'b'}) {
			const std::string dir = run + "/node-" + side;
			const std::string ns = "/run/netns/" + std::string(NODE_NS) + pid + side;
			if (exists(dir + "/containers.conf") && exists(ns))
				sh(podman_at(dir, ns, "rm -f -a -t 0"), 60);
			remove_podman_traces(dir, pid + side);
			const std::string ifname = "xpN" + std::string(1, side) + pid;
			sh(Tunnel::xwg_binary() + " down " + ifname);
			remove_xwg_traces(ifname);
		}
		sh("rm -rf " + quote(run));
	}
}

struct Node {
	char side;
	Netns ns;
	TempDir dir; // podman's root, runroot, tmpdir, net.d, IPAM, rootfs, plugin dir
	std::string underlay, ifname, subnet;
	std::unique_ptr<XwgIface> xwg;
	std::vector<std::string> containers;
	std::vector<std::string> sandboxes; // podman's netns paths (/run/netns/netns-...)

	Node(char s, const std::string &scratch)
		: side(s), ns(NODE_NS + PID + s), dir(scratch + "/node-" + s),
		  underlay(std::string("uP") + s + PID), ifname(std::string("xpN") + s + PID),
		  subnet(s == 'a' ? "198.51.100.0/25" : "198.51.100.128/25")
	{
		must("mkdir -p " + dir.file("net.d") + " " + dir.file("cni"));
		must("ln -s " + quote(XWG_CNI_BINARY) + " " + dir.file("cni/xwg-cni"));
		make_rootfs(dir.file("rootfs"));
		json conflist = {{"cniVersion", "1.0.0"},
				 {"name", "podnet"},
				 {"plugins",
				  {{{"type", "bridge"},
				    {"bridge", "cni0"},
				    {"isGateway", true},
				    {"ipMasq", false},
				    {"mtu", 1420},
				    {"ipam",
				     {{"type", "host-local"},
				      {"subnet", subnet},
				      {"dataDir", dir.file("ipam")},
				      {"routes", {{{"dst", "0.0.0.0/0"}}}}}}},
				   {{"type", "xwg-cni"}, {"interface", ifname}}}}};
		std::ofstream(dir.file("net.d/podnet.conflist")) << conflist.dump(2) << "\n";
		// File locks in tmp_dir: the default shm locks are shared with every other
		// podman on the machine, and a fresh tmp_dir makes podman free them all.
		std::ofstream(dir.file("containers.conf"))
			<< "[engine]\nlock_type = \"file\"\ntmp_dir = \"" << dir.file("tmp")
			<< "\"\nstatic_dir = \"" << dir.file("root/libpod")
			<< "\"\nvolume_path = \"" << dir.file("root/volumes")
			<< "\"\nevents_logger = \"file\"\ncgroup_manager = \"cgroupfs\"\n"
			   "\n[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\""
			<< dir.file("cni") << "\", \"/usr/lib/cni\"]\nnetwork_config_dir = \""
			<< dir.file("net.d") << "\"\n";
	}

	~Node()
	{
		// Containers first (their DEL needs the interface's maps), then whatever
		// podman may have left: its namespaces and mounts under the scratch directory.
		for (const std::string &c : containers)
			sh(podman("rm -f -t 0 " + c), 60);
		for (const std::string &s : sandboxes)
			if (exists(s))
				sh("ip netns del " + s.substr(s.rfind('/') + 1));
		remove_podman_traces(dir.path, PID + side);
	}

	std::string podman(const std::string &args) const
	{
		return podman_at(dir.path, ns.path(), args);
	}

	// Starts a container that sleeps; returns its address on podnet.
	std::string run(const std::string &name)
	{
		containers.push_back(name);
		must(podman("run -d --name " + name + " --cgroup-parent " +
			    cgroup_parent(PID + side) +
			    " --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network podnet"
			    " --rootfs " +
			    dir.file("rootfs") + " /bin/sleep 600"),
		     120);
		const std::string sandbox =
			must(podman("inspect --format '{{.NetworkSettings.SandboxKey}}' " + name));
		sandboxes.push_back(sandbox.substr(0, sandbox.find('\n')));
		std::string ip = must(podman(
			"inspect --format '{{.NetworkSettings.Networks.podnet.IPAddress}}' " +
			name));
		return ip.substr(0, ip.find('\n'));
	}

	Result exec(const std::string &name, const std::string &cmd, int timeout_s = 60) const
	{
		return sh(podman("exec " + name + " sh -c " + quote(cmd)), timeout_s);
	}

	// The IPv4 addresses in the pinned `pods` map.
	std::vector<std::string> pod_addresses() const
	{
		std::vector<std::string> out;
		for (const json &e : json::parse(must(
			     "bpftool -j map dump pinned /sys/fs/bpf/xwg/" + ifname + "/pods")))
			out.push_back(pod_entry_ipv4(e));
		return out;
	}
};

std::string node_conf(const Node &self, const Node &other, const std::string &key,
		      const std::string &other_pub)
{
	return "[Interface]\nPrivateKey = " + key + "\nListenPort = 51820\nAddress = 203.0.113." +
	       std::string(self.side == 'a' ? "1" : "2") + "/32\nUnderlay = " + self.underlay +
	       "\n\n[Peer]\nPublicKey = " + other_pub + "\nAllowedIPs = " + other.subnet +
	       "\nEndpoint = 192.0.2." + (other.side == 'a' ? "1" : "2") + ":51820\n";
}

} // namespace

TEST_CASE("xwg-cni under podman: containers on two nodes over xwg", "[netns][cni][podman]")
{
	for (const char *t : {"podman", "runc", "conmon", "busybox", "bpftool", "nsenter"})
		require_tool(t);
	require_tool("/usr/lib/cni/bridge");
	require_tool("/usr/lib/cni/host-local");
	remove_stale_runs();
	remove_stale_namespaces(NODE_NS);
	TempDir scratch("/tmp/xwg-podman-test-" + PID);
	Node a('a', scratch.path), b('b', scratch.path);
	must("ip link add " + a.underlay + " netns " + a.ns.name + " type veth peer name " +
	     b.underlay + " netns " + b.ns.name);
	a.ns.in("ip addr add 192.0.2.1/24 dev " + a.underlay);
	a.ns.in("ip link set " + a.underlay + " up");
	b.ns.in("ip addr add 192.0.2.2/24 dev " + b.underlay);
	b.ns.in("ip link set " + b.underlay + " up");
	const std::string ka = gen_private(), kb = gen_private();
	std::ofstream(scratch.file(a.ifname + ".conf")) << node_conf(a, b, ka, pub_of(kb));
	std::ofstream(scratch.file(b.ifname + ".conf")) << node_conf(b, a, kb, pub_of(ka));
	a.xwg = std::make_unique<XwgIface>(a.ns, Tunnel::xwg_binary(), a.ifname);
	a.xwg->up(scratch.file(a.ifname + ".conf"));
	b.xwg = std::make_unique<XwgIface>(b.ns, Tunnel::xwg_binary(), b.ifname);
	b.xwg->up(scratch.file(b.ifname + ".conf"));

	const std::string ca = "xwgpa" + PID, cb = "xwgpb" + PID;
	const std::string ip_a = a.run(ca), ip_b = b.run(cb);
	INFO("container A " << ip_a << ", container B " << ip_b);
	CHECK(a.ns.in("ip -br link show cni0").find("UP") != std::string::npos);
	CHECK(a.pod_addresses() == std::vector<std::string>{ip_a});
	CHECK(b.pod_addresses() == std::vector<std::string>{ip_b});

	// The first packet waits for the handshake; then the session is up.
	REQUIRE(wait_until([&] { return a.exec(ca, "ping -c 1 -W 1 " + ip_b, 10).rc == 0; }, 20s,
			   200ms));

	const LinkStats before_a = link_stats(a.ns, a.ifname),
			before_b = link_stats(b.ns, b.ifname);
	Result r = a.exec(ca, "ping -c 20 -i 0.05 -W 2 " + ip_b);
	CHECK(r.rc == 0);
	CHECK(r.out.find(" 0% packet loss") != std::string::npos);
	r = b.exec(cb, "ping -c 20 -i 0.05 -W 2 " + ip_a);
	CHECK(r.rc == 0);

	// 2 MiB from A to B over TCP. busybox nc ends on EOF of either side and the
	// listener's stdin would be /dev/null: a sleep keeps it open, so it reads all
	// the sender's bytes; the sender's nc ends with its file.
	const Payload &p = payload(2 << 20);
	must("cp " + p.path + " " + a.dir.file("rootfs/tmp/payload"));
	must(b.podman("exec -d " + cb + " sh -c 'sleep 120 | nc -l -p 7001 > /tmp/recv'"));
	REQUIRE(wait_until([&] { return b.exec(cb, "netstat -ltn | grep -q :7001", 10).rc == 0; },
			   10s, 100ms));
	r = a.exec(ca, "nc " + ip_b + " 7001 < /tmp/payload", 120);
	INFO("sender: " << r.rc << " " << r.out);
	CHECK(r.rc == 0);
	const std::string recv = b.dir.file("rootfs/tmp/recv");
	CHECK(wait_until([&] { return read_file(recv).size() >= p.bytes; }, 30s, 200ms));
	CHECK(read_file(recv).size() == p.bytes);
	CHECK(b.exec(cb, "sha256sum /tmp/recv").out.substr(0, 64) == p.sha256);

	// The fast path: 2 MiB is over 1,400 segments, pings 80 packets; the tunnel devices
	// saw at most a few packets of their own (IPv6 MLD reports) meanwhile.
	const LinkStats after_a = link_stats(a.ns, a.ifname), after_b = link_stats(b.ns, b.ifname);
	INFO("tunnel a tx " << before_a.tx_packets << " -> " << after_a.tx_packets << ", rx "
			    << before_a.rx_packets << " -> " << after_a.rx_packets);
	INFO("tunnel b tx " << before_b.tx_packets << " -> " << after_b.tx_packets << ", rx "
			    << before_b.rx_packets << " -> " << after_b.rx_packets);
	CHECK(after_a.tx_packets - before_a.tx_packets < 10);
	CHECK(after_a.rx_packets - before_a.rx_packets < 10);
	CHECK(after_b.tx_packets - before_b.tx_packets < 10);
	CHECK(after_b.rx_packets - before_b.rx_packets < 10);

	// podman's teardown runs the plugin's DEL: the maps are empty again, and podman's
	// namespaces are gone.
	must(a.podman("rm -f -t 0 " + ca), 60);
	must(b.podman("rm -f -t 0 " + cb), 60);
	CHECK(a.pod_addresses().empty());
	CHECK(b.pod_addresses().empty());
	for (const Node *n : {&a, &b})
		for (const std::string &s : n->sandboxes)
			CHECK_FALSE(exists(s));
}
