// wg_quick_save_test.cpp — SaveConfig's file (loader/control/wg_quick_save.h): the exact
// text wg-quick's save_config would write for a configuration, that text parsed back gives
// the same configuration and settings, and the file is replaced atomically with mode 0600.
#include <catch2/catch.hpp>

#include "loader/control/config_file.h"
#include "loader/control/wg_quick_save.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "sample_keys.h"

using namespace xwg;
using namespace sample_keys;

namespace {

std::string slurp(const std::string &path)
{
	std::ifstream f(path);
	std::ostringstream s;
	s << f.rdbuf();
	return s.str();
}

// A configuration with every key the writer knows.
ParsedConfig full()
{
	return config_parse(std::string("[Interface]\n"
					"PrivateKey = ") +
				    PRIV1 +
				    "\n"
				    "ListenPort = 51820\n"
				    "FwMark = 0x1234\n"
				    "Address = 192.0.2.1/24, 2001:db8::1/64\n"
				    "MTU = 1400\n"
				    "Table = 1234\n"
				    "Underlay = eth0, eth1\n"
				    "ReceivePath = tc\n"
				    "DNS = 192.0.2.53, example.com, 2001:db8::53\n"
				    "SaveConfig = true\n"
				    "PostDown = echo down %i\n"
				    "PreUp = echo one\n"
				    "PreUp = echo two, three\n"
				    "PostUp = nft add rule inet t c oifname \"%i\" masquerade\n"
				    "PostUp =\n"
				    "PreDown = echo 'x=y'\n"
				    "[Peer]\n"
				    "PublicKey = " +
				    PUB2 +
				    "\n"
				    "PresharedKey = " +
				    PSK +
				    "\n"
				    "AllowedIPs = 198.51.100.0/24, 2001:db8:1::/48\n"
				    "Endpoint = [2001:db8::9]:4500\n"
				    "PersistentKeepalive = 25\n"
				    "FlowPorts = 4\n"
				    "[Peer]\n"
				    "PublicKey = " +
				    PUB3 + "\n",
			    "wg0.conf");
}

} // namespace

TEST_CASE("wg showconf's text: keys in wg's order, blank lines between sections")
{
	const ParsedConfig p = full();
	CHECK(wg_showconf_text(p.config) ==
	      std::string("[Interface]\n"
			  "ListenPort = 51820\n"
			  "FwMark = 0x1234\n"
			  "PrivateKey = ") +
		      PRIV1 + "\n\n[Peer]\nPublicKey = " + PUB2 + "\nPresharedKey = " + PSK +
		      "\nAllowedIPs = 198.51.100.0/24, 2001:db8:1::/48\n"
		      "Endpoint = [2001:db8::9]:4500\n"
		      "PersistentKeepalive = 25\nFlowPorts = 4\n\n[Peer]\nPublicKey = " +
		      PUB3 + "\n");
	// Nothing set: only the section line and its blank line.
	CHECK(wg_showconf_text(DeviceConfig{}) == "[Interface]\n\n");
}

TEST_CASE("SaveConfig writes wg-quick's lines in place of showconf's [Interface] line")
{
	const ParsedConfig p = full();
	const std::string text = wg_quick_file_text(p.config, p.wg_quick);
	CHECK(text == std::string("[Interface]\n"
				  "Address = 192.0.2.1/24\n"
				  "Address = 2001:db8::1/64\n"
				  "DNS = 192.0.2.53\n"
				  "DNS = 2001:db8::53\n"
				  "DNS = example.com\n"
				  "MTU = 1400\n"
				  "Table = 1234\n"
				  "Underlay = eth0\n"
				  "Underlay = eth1\n"
				  "ReceivePath = tc\n"
				  "SaveConfig = true\n"
				  "PreUp = echo one\n"
				  "PreUp = echo two, three\n"
				  "PostUp = nft add rule inet t c oifname \"%i\" masquerade\n"
				  "PostUp = \n"
				  "PreDown = echo 'x=y'\n"
				  "PostDown = echo down %i\n"
				  "ListenPort = 51820\n"
				  "FwMark = 0x1234\n"
				  "PrivateKey = ") +
			      PRIV1 + "\n\n[Peer]\nPublicKey = " + PUB2 +
			      "\nPresharedKey = " + PSK +
			      "\nAllowedIPs = 198.51.100.0/24, 2001:db8:1::/48\n"
			      "Endpoint = [2001:db8::9]:4500\n"
			      "PersistentKeepalive = 25\nFlowPorts = 4\n\n[Peer]\nPublicKey = " +
			      PUB3 + "\n");

	// parse(save(x)) == x, for the configuration and for wg-quick's settings.
	const ParsedConfig back = config_parse(text, "wg0.conf");
	CHECK(back.config == p.config);
	CHECK(back.wg_quick == p.wg_quick);
	CHECK(back.warnings.empty());
}

TEST_CASE("SaveConfig round trip: defaults and a bare interface")
{
	// No MTU, Table auto, no hooks, no DNS, SaveConfig false (wg-quick's `save` command
	// writes a file without it), no peers: nothing but the keys and the ending.
	const ParsedConfig p =
		config_parse(std::string("[Interface]\nPrivateKey = ") + PRIV1 + "\n", "x.conf");
	const std::string text = wg_quick_file_text(p.config, p.wg_quick);
	CHECK(text == std::string("[Interface]\nPrivateKey = ") + PRIV1 + "\n");
	const ParsedConfig back = config_parse(text, "x.conf");
	CHECK(back.config == p.config);
	CHECK(back.wg_quick == p.wg_quick);

	// Only search domains, an IPv6 name server with a scope, Table off.
	const ParsedConfig q = config_parse(std::string("[Interface]\nPrivateKey = ") + PRIV1 +
						    "\nDNS = corp.example\nDNS = fe80::1%eth0\n"
						    "Table = off\nSaveConfig = true\n",
					    "x.conf");
	const ParsedConfig qback = config_parse(wg_quick_file_text(q.config, q.wg_quick), "x.conf");
	CHECK(qback.config == q.config);
	CHECK(qback.wg_quick == q.wg_quick);
}

TEST_CASE("save_config_file replaces the file atomically, mode 0600")
{
	const std::string dir = "/tmp/xwg-save-test-" + std::to_string(getpid());
	REQUIRE(mkdir(dir.c_str(), 0755) == 0);
	const std::string path = dir + "/wg0.conf";
	{
		std::ofstream(path) << "old\n";
	}
	chmod(path.c_str(), 0644);
	const mode_t old_umask = umask(0);
	save_config_file(path, "[Interface]\nnew\n");
	umask(old_umask);
	CHECK(slurp(path) == "[Interface]\nnew\n");
	struct stat st {};
	REQUIRE(stat(path.c_str(), &st) == 0);
	CHECK((st.st_mode & 07777) == 0600);

	// A directory that cannot take the new file: an error naming the path, nothing left.
	CHECK_THROWS_WITH(save_config_file(dir + "/missing/wg0.conf", "x"),
			  "SaveConfig: cannot create a file beside " + dir +
				  "/missing/wg0.conf: No such file or directory");
	// Renaming over a directory fails: the temporary file goes, the directory stays.
	REQUIRE(mkdir((dir + "/wg1.conf").c_str(), 0700) == 0);
	CHECK_THROWS_WITH(save_config_file(dir + "/wg1.conf", "x"),
			  "SaveConfig: writing " + dir + "/wg1.conf: Is a directory");
	rmdir((dir + "/wg1.conf").c_str());

	// Only wg0.conf is left in the directory: no temporary files.
	unlink(path.c_str());
	CHECK(rmdir(dir.c_str()) == 0);
}
