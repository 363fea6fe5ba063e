// wg_quick_netns_test.cpp — wg-quick files with hooks, DNS and SaveConfig, brought up by
// the real daemon in a namespace of their own:
//
//   namespace xwgQ<pid><case>: underlay veth xqu<pid><case> 192.0.2.1/24 (its peer end
//   xqv... stays unconfigured); tunnel xq<pid><case> 198.51.100.1/24 on top.
//
// Hooks write to files in a scratch directory and add an nftables NAT rule inside the
// namespace; a fake resolvconf first on the daemon's PATH records its arguments and stdin.
// Checked: wg-quick's order (PreUp before the device, PostUp after addresses, PreDown
// while it runs, PostDown after it is gone), %i, a failing PreUp/PostUp that undoes
// everything without the down hooks, DNS set and removed, the error without resolvconf,
// and SaveConfig writing back a peer added at run time. Namespaces, files and interfaces
// go on every exit path.
#include <catch2/catch.hpp>

#include "loader/control/wg_quick_hooks.h"
#include "netns_lab.h"

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

using namespace xwg;
using lab::exists;
using lab::must;
using lab::read_file;
using lab::Result;
using lab::sh;

namespace {

const std::string PID = lab::PID;

bool contains(const std::string &hay, const std::string &needle)
{
	return hay.find(needle) != std::string::npos;
}

// One namespace with an underlay, a scratch directory with a fake resolvconf in bin/, and
// an xwg interface that is taken down (and its traces removed) at the end. The namespace
// takes the hooks' nftables tables with it.
struct Lab {
	std::string tag;
	lab::Netns ns;
	lab::TempDir dir;
	std::string ul, ifname;
	lab::XwgIface xwg;
	std::string bin, calls, log;

	explicit Lab(const std::string &t)
		: tag(t), ns("xwgQ" + PID + t), dir("/tmp/xwgQ" + PID + t), ul("xqu" + PID + t),
		  ifname("xq" + PID + t), xwg(ns, lab::Tunnel::xwg_binary(), ifname),
		  bin(dir.file("bin")), calls(dir.file("resolvconf.calls")),
		  log(dir.file("hooks.log"))
	{
		lab::require_tool("nft");
		lab::require_tool("wg");
		ns.in("ip link add " + ul + " type veth peer name xqv" + PID + t);
		ns.in("ip link set " + ul + " up");
		ns.in("ip addr add 192.0.2.1/24 dev " + ul);
		must("mkdir -p " + bin);
		std::ofstream(bin + "/resolvconf")
			<< "#!/bin/sh\necho \"resolvconf $*\" >> " << calls
			<< "\nif [ \"$1\" = -a ]; then cat >> " << calls << "; fi\n";
		chmod((bin + "/resolvconf").c_str(), 0755);
	}
	// A wg-quick file for the interface with @extra in [Interface] and one peer.
	std::string conf(const std::string &extra, const std::string &name = "")
	{
		const std::string path = dir.file((name.empty() ? ifname : name) + ".conf");
		std::ofstream(path)
			<< "[Interface]\nPrivateKey = " << lab::gen_private()
			<< "\nListenPort = 51820\nAddress = 198.51.100.1/24\nUnderlay = " << ul
			<< "\n"
			<< extra << "\n[Peer]\nPublicKey = " << lab::pub_of(lab::gen_private())
			<< "\nAllowedIPs = 203.0.113.0/24\nEndpoint = 192.0.2.2:51820\n";
		return path;
	}
	// `xwg up` with the fake resolvconf first on PATH (the guard takes it down).
	Result up(const std::string &path)
	{
		Result r =
			sh("PATH=" + bin + ":$PATH " + ns.nsenter() + xwg.xwg + " up " + path, 60);
		xwg.is_up = r.rc == 0;
		return r;
	}
	bool link(const std::string &name) const
	{
		return ns.try_in("ip link show dev " + name).rc == 0;
	}
	// Every trace of the interface is gone.
	void check_gone() const
	{
		CHECK_FALSE(link(ifname));
		CHECK_FALSE(link("xwgh-" + ifname));
		CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + ifname));
		CHECK_FALSE(exists("/var/run/wireguard/" + ifname + ".sock"));
		CHECK_FALSE(exists("/run/xwg/" + ifname + ".pid"));
		CHECK_FALSE(exists("/run/xwg/" + ifname + ".state"));
		CHECK_FALSE(exists("/run/xwg/" + ifname + ".log"));
		CHECK_FALSE(contains(ns.in("ip -d link show dev " + ul), "xdp"));
		CHECK(ns.in("tc filter show dev " + ul + " ingress").empty());
	}
};

// "present"/"absent": whether the tunnel device exists when the hook runs.
const std::string LINK_STATE = "$(ip link show dev %i >/dev/null 2>&1 && echo present || echo "
			       "absent)";

} // namespace

TEST_CASE("hooks run in wg-quick's order with %i; a PostUp nftables rule lives until PostDown",
	  "[netns]")
{
	lab::remove_stale_namespaces("xwgQ");
	Lab lab("a");
	const std::string extra_peer = lab::pub_of(lab::gen_private());
	const std::string conf = lab.conf(
		"PreUp = echo \"preup %i " + LINK_STATE + "\" >> " + lab.log +
		"\n"
		"PostUp = echo \"postup %i $(ip -brief address show dev %i | awk '{print $3}')\" "
		">> " +
		lab.log +
		"\n"
		"PostUp = nft add table inet xwg_%i\n"
		"PostUp = nft add chain inet xwg_%i post '{ type nat hook postrouting priority "
		"100; }'\n"
		"PostUp = nft add rule inet xwg_%i post oifname \"%i\" masquerade\n"
		// `wg` against the interface being brought up: the daemon answers while it waits.
		"PostUp = wg set %i peer " +
		extra_peer +
		" allowed-ips 198.51.100.9/32\n"
		"PreDown = echo \"predown %i " +
		LINK_STATE + " $(wg show %i peers | wc -l)\" >> " + lab.log +
		"\n"
		"PostDown = nft delete table inet xwg_%i\n"
		"PostDown = echo \"postdown %i " +
		LINK_STATE + "\" >> " + lab.log + "\n");
	const std::string &i = lab.ifname;

	Result up = lab.up(conf);
	INFO(up.out << "\nlog:\n" << lab.xwg.log());
	REQUIRE(up.rc == 0);
	CHECK(contains(up.out, "[#] nft add rule inet xwg_" + i + " post oifname \"" + i +
				       "\" masquerade\n"));
	CHECK(read_file(lab.log) == "preup " + i + " absent\npostup " + i + " 198.51.100.1/24\n");
	const std::string table = lab.ns.in("nft list table inet xwg_" + i);
	INFO(table);
	CHECK(contains(table, "oifname \"" + i + "\" masquerade"));
	CHECK(contains(lab.ns.in("wg show " + i + " peers"), extra_peer));

	Result down = lab.xwg.down();
	INFO(down.out);
	CHECK(down.rc == 0);
	CHECK(read_file(lab.log) == "preup " + i + " absent\npostup " + i +
					    " 198.51.100.1/24\npredown " + i +
					    " present 2\npostdown " + i + " absent\n");
	CHECK_FALSE(contains(lab.ns.in("nft list tables"), "xwg_" + i));
	lab.check_gone();
}

TEST_CASE("a failing PostUp or PreUp undoes everything and runs no down hook; a failing "
	  "PreDown stops nothing",
	  "[netns]")
{
	Lab lab("b");
	const std::string &i = lab.ifname;
	const std::string down_hooks = "PreDown = touch " + lab.dir.file("predown") +
				       "\nPostDown = touch " + lab.dir.file("postdown") + "\n";
	std::string conf = lab.conf("PreUp = touch " + lab.dir.file("preup-%i") +
				    "\nDNS = 192.0.2.53\n"
				    "PostUp = echo post1 >> " +
				    lab.log +
				    "\n"
				    "PostUp = exit 7\n"
				    "PostUp = echo never >> " +
				    lab.log + "\n" + down_hooks);
	Result up = lab.up(conf);
	INFO(up.out);
	CHECK(up.rc != 0);
	CHECK(contains(up.out, "xwg up: PostUp \"exit 7\" exited with status 7\n"));
	lab.check_gone();
	// What a hook did stays, as with wg-quick; DNS was set and removed again.
	CHECK(exists(lab.dir.file("preup-" + i)));
	CHECK(read_file(lab.log) == "post1\n");
	CHECK(read_file(lab.calls) == "resolvconf -a " + resolvconf_interface(i) +
					      " -m 0 -x\nnameserver 192.0.2.53\nresolvconf -d " +
					      resolvconf_interface(i) + " -f\n");
	CHECK_FALSE(exists(lab.dir.file("predown")));
	CHECK_FALSE(exists(lab.dir.file("postdown")));

	// A failing PreUp: the device never exists.
	conf = lab.conf("PreUp = ip link show dev %i >/dev/null && touch " +
			lab.dir.file("existed") + "; false\n" + down_hooks);
	up = lab.up(conf);
	INFO(up.out);
	CHECK(up.rc != 0);
	CHECK(contains(up.out, "xwg up: PreUp \"ip link show dev " + i));
	CHECK(contains(up.out, "; false\" exited with status 1\n"));
	CHECK_FALSE(exists(lab.dir.file("existed")));
	lab.check_gone();
	CHECK_FALSE(exists(lab.dir.file("predown")));
	CHECK_FALSE(exists(lab.dir.file("postdown")));

	// A failing PreDown does not stop a down (the daemon is going either way).
	conf = lab.conf("PreDown = exit 4\nPostDown = touch " + lab.dir.file("postdown") + "\n");
	up = lab.up(conf);
	INFO(up.out);
	REQUIRE(up.rc == 0);
	CHECK(lab.xwg.down().rc == 0);
	lab.check_gone();
	CHECK(exists(lab.dir.file("postdown")));
}

TEST_CASE("DNS goes through resolvconf; without resolvconf, up fails saying so", "[netns]")
{
	Lab lab("c");
	const std::string &i = lab.ifname;
	const std::string record = resolvconf_interface(i);
	const std::string conf = lab.conf("DNS = 192.0.2.53, 2001:db8::53, example.com\n");
	Result up = lab.up(conf);
	INFO(up.out);
	REQUIRE(up.rc == 0);
	CHECK(contains(up.out, "[#] resolvconf -a " + record + " -m 0 -x\n"));
	const std::string set = "resolvconf -a " + record +
				" -m 0 -x\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch "
				"example.com\n";
	CHECK(read_file(lab.calls) == set);
	CHECK(lab.xwg.down().rc == 0);
	CHECK(read_file(lab.calls) == set + "resolvconf -d " + record + " -f\n");
	lab.check_gone();

	// No resolvconf in the daemon's PATH (nothing else there either: it needs nothing).
	const std::string nsenter = must("command -v nsenter");
	Result r = sh("env PATH=" + lab.dir.file("empty") + " " +
			      nsenter.substr(0, nsenter.find('\n')) + " --net=" + lab.ns.path() +
			      " " + lab.xwg.xwg + " up " + conf,
		      60);
	lab.xwg.is_up = r.rc == 0;
	INFO(r.out);
	CHECK(r.rc != 0);
	CHECK(contains(r.out, "xwg up: DNS = 192.0.2.53, 2001:db8::53 needs resolvconf, which is "
			      "not installed (not in PATH=" +
				      lab.dir.file("empty") + ")"));
	lab.check_gone();
}

TEST_CASE("SaveConfig writes the running configuration back on down, wg-quick's way", "[netns]")
{
	Lab lab("d");
	const std::string &i = lab.ifname;
	const std::string hooks = "PostUp = echo up %i >> " + lab.log +
				  "\nPostDown = echo down %i >> " + lab.log + "\n";
	const std::string conf =
		lab.conf("MTU = 1400\nDNS = 192.0.2.53\nSaveConfig = true\n" + hooks);
	chmod(conf.c_str(), 0644);
	Result up = lab.up(conf);
	INFO(up.out);
	REQUIRE(up.rc == 0);
	// Changes made at run time: a peer added with wg set, an address with ip.
	const std::string added = lab::pub_of(lab::gen_private());
	lab.ns.in("wg set " + i + " peer " + added +
		  " allowed-ips 198.51.100.20/32,2001:db8:7::/48 endpoint 192.0.2.9:51820 "
		  "persistent-keepalive 25");
	lab.ns.in("ip addr add 198.51.100.50/24 dev " + i);
	const std::string showconf = lab.ns.in("wg showconf " + i);
	REQUIRE(contains(showconf, added));
	REQUIRE(lab.xwg.down().rc == 0);

	// wg-quick's lines in place of showconf's "[Interface]" line (xwg's Underlay after
	// Table), then what wg showconf printed, ending in one newline.
	std::string tail = showconf.substr(std::string("[Interface]\n").size());
	while (!tail.empty() && tail.back() == '\n')
		tail.pop_back();
	const std::string expected = "[Interface]\nAddress = 198.51.100.1/24\n"
				     "Address = 198.51.100.50/24\nDNS = 192.0.2.53\nMTU = 1400\n"
				     "Underlay = " +
				     lab.ul + "\nSaveConfig = true\n" + hooks + tail + "\n";
	CHECK(read_file(conf) == expected);
	struct stat st {};
	REQUIRE(stat(conf.c_str(), &st) == 0);
	CHECK((st.st_mode & 07777) == 0600);
	CHECK(read_file(lab.log) == "up " + i + "\ndown " + i + "\n");
	lab.check_gone();

	// The saved file brings the same interface up again, the added peer included.
	up = lab.up(conf);
	INFO(up.out);
	REQUIRE(up.rc == 0);
	CHECK(contains(lab.ns.in("wg show " + i + " peers"), added));
	CHECK(contains(lab.ns.in("ip -brief address show dev " + i), "198.51.100.50/24"));
	CHECK(lab.xwg.down().rc == 0);
	lab.check_gone();
}

TEST_CASE("a daemon taking over runs no up hook again; its down runs the down hooks once",
	  "[netns][restart]")
{
	Lab lab("t");
	const std::string &i = lab.ifname;
	const std::string conf =
		lab.conf("PreUp = echo \"preup %i\" >> " + lab.log + "\nPostUp = echo \"postup %i\" >> " +
			 lab.log + "\nPostUp = nft add table inet xwg_%i\nPreDown = echo \"predown %i\" >> " +
			 lab.log + "\nPostDown = nft delete table inet xwg_%i\nPostDown = echo \"postdown "
				   "%i\" >> " +
			 lab.log + "\n");
	Result up = lab.up(conf);
	INFO(up.out << "\nlog:\n" << lab.xwg.log());
	REQUIRE(up.rc == 0);
	const std::string after_up = "preup " + i + "\npostup " + i + "\n";
	REQUIRE(read_file(lab.log) == after_up);

	// kill -9, then a new daemon takes over: no hook runs, the rule stays.
	REQUIRE(kill(lab.xwg.daemon_pid(), SIGKILL) == 0);
	REQUIRE(lab::wait_until([&] { return !lab.xwg.daemon_alive(); }, std::chrono::seconds(5)));
	up = lab.up(conf);
	INFO(up.out << "\nlog:\n" << lab.xwg.log());
	REQUIRE(up.rc == 0);
	CHECK(contains(up.out, "took over"));
	CHECK(read_file(lab.log) == after_up);
	CHECK(contains(lab.ns.in("nft list tables"), "xwg_" + i));
	// And `xwg restart`: none either.
	Result restart = lab::sh(lab.ns.nsenter() + lab.xwg.xwg + " restart " + i, 60);
	INFO(restart.out);
	REQUIRE(restart.rc == 0);
	CHECK(read_file(lab.log) == after_up);

	// The down of the daemon that took over is the whole of wg-quick's, once.
	Result down = lab.xwg.down();
	INFO(down.out);
	CHECK(down.rc == 0);
	CHECK(read_file(lab.log) == after_up + "predown " + i + "\npostdown " + i + "\n");
	CHECK_FALSE(contains(lab.ns.in("nft list tables"), "xwg_" + i));
	lab.check_gone();
}
