// uapi_wg_test.cpp — wire compatibility with the stock `wg` tool: a tiny server in this
// process answers on /var/run/wireguard/NAME.sock with loader/uapi_protocol, and we run
// `wg show`, `wg showconf`, `wg set`, `wg setconf` and `wg syncconf` against it. This
// proves what `wg` sends and what it understands of our answers, without any kernel
// device. The socket has a unique name and is removed on every path (RAII).
#include <catch2/catch.hpp>

#include "loader/control/config_file.h"
#include "loader/control/uapi_protocol.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "sample_keys.h"

using namespace xwg;

namespace
{

using namespace sample_keys;

const std::string CONFIG = std::string("[Interface]\nPrivateKey = ") + PRIV1 +
			   "\nListenPort = 51820\nFwMark = 0x2a\n"
			   "[Peer]\nPublicKey = " +
			   PUB2 + "\nPresharedKey = " + PSK +
			   "\nAllowedIPs = 192.0.2.0/25, 2001:db8::/64\n"
			   "Endpoint = 203.0.113.5:51820\nPersistentKeepalive = 25\n"
			   "[Peer]\nPublicKey = " +
			   PUB3 + "\nAllowedIPs = 198.51.100.0/24\nEndpoint = [2001:db8::9]:4500\n";

// A UAPI server over the model, the way the daemon will hold it: one live DeviceConfig,
// replaced whole by a successful set.
class FakeDevice
{
      public:
	explicit FakeDevice(DeviceConfig config) : live_(std::move(config))
	{
		name_ = "xwgt" + std::to_string(getpid() % 1000000);
		mkdir("/var/run/wireguard", 0755);
		path_ = "/var/run/wireguard/" + name_ + ".sock";
		unlink(path_.c_str());
		fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_un addr{};
		addr.sun_family = AF_UNIX;
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
		if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
		    listen(fd_, 4) != 0)
			throw std::runtime_error("cannot listen on " + path_);
		thread_ = std::thread([this] { serve(); });
	}
	~FakeDevice()
	{
		shutdown(fd_, SHUT_RDWR); // wakes accept()
		thread_.join();
		close(fd_);
		unlink(path_.c_str());
	}

	const std::string &name() const { return name_; }
	DeviceConfig config()
	{
		std::lock_guard lock(mu_);
		return live_;
	}
	std::vector<std::string> set_bodies()
	{
		std::lock_guard lock(mu_);
		return bodies_;
	}
	ConfigDelta last_delta()
	{
		std::lock_guard lock(mu_);
		return delta_;
	}
	void fail_next_set(int code) { fail_code_ = code; }

      private:
	void serve()
	{
		for (;;) {
			int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
			if (c < 0)
				return;
			converse(c);
			close(c);
		}
	}

	void converse(int c)
	{
		std::string buf;
		char chunk[4096];
		for (;;) {
			UapiFrame f = uapi_frame(buf);
			if (f.status == UapiFrame::Status::invalid)
				return;
			if (f.status == UapiFrame::Status::incomplete) {
				ssize_t n = read(c, chunk, sizeof(chunk));
				if (n <= 0)
					return;
				buf.append(chunk, static_cast<std::size_t>(n));
				continue;
			}
			std::string reply = f.op == UapiOp::get ? get() : set(std::string(f.body));
			if (write(c, reply.data(), reply.size()) !=
			    static_cast<ssize_t>(reply.size()))
				return;
			buf.erase(0, f.consumed);
		}
	}

	std::string get()
	{
		std::lock_guard lock(mu_);
		return uapi_get_response(live_, [](const PublicKey &k) {
			PeerRuntime rt;
			if (k == key(PUB2)) {
				rt.last_handshake_sec = 1700000000;
				rt.last_handshake_nsec = 5;
				rt.rx_bytes = 1111;
				rt.tx_bytes = 2222;
			}
			return rt;
		});
	}

	std::string set(const std::string &body)
	{
		std::lock_guard lock(mu_);
		bodies_.push_back(body);
		if (int code = fail_code_.exchange(0))
			return uapi_errno_response(code);
		try {
			UapiApplied a = uapi_apply_set(live_, uapi_parse_set(body));
			live_ = std::move(a.config);
			delta_ = std::move(a.delta);
		} catch (const UapiError &e) {
			return uapi_errno_response(e.code());
		}
		return uapi_errno_response(0);
	}

	std::string name_, path_;
	int fd_ = -1;
	std::thread thread_;
	std::mutex mu_;
	DeviceConfig live_;
	ConfigDelta delta_;
	std::vector<std::string> bodies_;
	std::atomic<int> fail_code_{0};
};

struct Run {
	int status;
	std::string output; // stdout and stderr
};

Run wg(const std::string &args)
{
	std::string cmd = "WG_HIDE_KEYS=never wg " + args + " 2>&1";
	FILE *p = popen(cmd.c_str(), "r");
	REQUIRE(p);
	std::string out;
	char buf[4096];
	std::size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		out.append(buf, n);
	int st = pclose(p);
	return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// Writes text to a temporary file that is removed when this goes out of scope.
struct TempFile {
	std::string path;
	explicit TempFile(const std::string &text)
	{
		path = "/tmp/xwg-uapi-wg-" + std::to_string(getpid()) + ".conf";
		FILE *f = fopen(path.c_str(), "w");
		fwrite(text.data(), 1, text.size(), f);
		fclose(f);
	}
	~TempFile() { unlink(path.c_str()); }
};

} // namespace

TEST_CASE("wg is installed")
{
	REQUIRE(wg("--version").status == 0);
}

TEST_CASE("wg show and wg showconf read our get answer")
{
	DeviceConfig cfg = config_parse(CONFIG, "wg0.conf").config;
	FakeDevice dev(cfg);

	Run r = wg("show " + dev.name() + " dump");
	REQUIRE(r.status == 0);
	std::string expect = std::string(PRIV1) + "\t" + PUB1 + "\t51820\t0x2a\n" + PUB2 + "\t" +
			     PSK + "\t203.0.113.5:51820\t192.0.2.0/25,2001:db8::/64\t1700000000\t" +
			     "1111\t2222\t25\n" + PUB3 +
			     "\t(none)\t[2001:db8::9]:4500\t198.51.100.0/24\t0\t0\t0\toff\n";
	CHECK(r.output == expect);

	// wg's own config format goes back through our parser to the same model.
	r = wg("showconf " + dev.name());
	REQUIRE(r.status == 0);
	INFO(r.output);
	CHECK(config_parse(r.output, "showconf").config == cfg);

	CHECK(wg("show " + dev.name() + " listen-port").output == "51820\n");
	CHECK(wg("show interfaces").output.find(dev.name()) != std::string::npos);
}

TEST_CASE("wg set sends what our parser accepts")
{
	FakeDevice dev(config_parse(CONFIG, "wg0.conf").config);

	Run r = wg("set " + dev.name() + " listen-port 4000 fwmark 0 peer " + PUB4 +
		   " allowed-ips 10.9.0.0/16,10.8.0.1 endpoint 192.0.2.7:1234"
		   " persistent-keepalive 5");
	INFO(r.output);
	REQUIRE(r.status == 0);
	REQUIRE(dev.set_bodies().size() == 1);
	CHECK(dev.set_bodies()[0] == "listen_port=4000\nfwmark=0\npublic_key=" + hex(PUB4) +
					 "\nendpoint=192.0.2.7:1234\n"
					 "persistent_keepalive_interval=5\n"
					 "replace_allowed_ips=true\n"
					 "allowed_ip=10.9.0.0/16\nallowed_ip=10.8.0.1/32\n");
	DeviceConfig now = dev.config();
	CHECK(now.iface.listen_port == 4000);
	CHECK(now.iface.fwmark == 0);
	const PeerConfig *p = now.find_peer(key(PUB4));
	REQUIRE(p);
	CHECK(p->endpoint->to_string() == "192.0.2.7:1234");
	CHECK(p->persistent_keepalive == 5);
	CHECK(p->allowed_ips.size() == 2);

	r = wg("set " + dev.name() + " peer " + PUB2 + " remove");
	REQUIRE(r.status == 0);
	CHECK(dev.set_bodies().back() == "public_key=" + hex(PUB2) + "\nremove=true\n");
	CHECK_FALSE(dev.config().find_peer(key(PUB2)));
	CHECK(dev.last_delta().peers_removed.size() == 1);

	// A failed set reaches the user as wg's error, with our negative errno.
	dev.fail_next_set(UAPI_ERROR_INVALID);
	r = wg("set " + dev.name() + " listen-port 1");
	CHECK(r.status != 0);
	CHECK(r.output.find("Invalid argument") != std::string::npos);
	CHECK(dev.config().iface.listen_port == 4000);
}

TEST_CASE("wg setconf and wg syncconf")
{
	FakeDevice dev(config_parse(CONFIG, "wg0.conf").config);
	// A wg-format file (no wg-quick keys): one known peer changed, one new, one gone.
	std::string text = std::string("[Interface]\nPrivateKey = ") + PRIV1 +
			   "\nListenPort = 51821\n[Peer]\nPublicKey = " + PUB3 +
			   "\nAllowedIPs = 198.51.100.0/25\n[Peer]\nPublicKey = " + PUB4 +
			   "\nAllowedIPs = 203.0.113.0/24\n";
	TempFile file(text);

	SECTION("setconf replaces everything")
	{
		Run r = wg("setconf " + dev.name() + " " + file.path);
		INFO(r.output);
		REQUIRE(r.status == 0);
		CHECK(dev.set_bodies().back().find("replace_peers=true\n") != std::string::npos);
		DeviceConfig now = dev.config();
		CHECK(now.peers.size() == 2);
		CHECK(now.iface.listen_port == 51821);
		CHECK(now.iface.fwmark == 0); // setconf sends fwmark=0 when the file has none
		CHECK_FALSE(now.find_peer(key(PUB3))->endpoint);
	}
	SECTION("syncconf removes, updates and adds without replace_peers")
	{
		Run r = wg("syncconf " + dev.name() + " " + file.path);
		INFO(r.output);
		REQUIRE(r.status == 0);
		std::string body = dev.set_bodies().back();
		INFO(body);
		CHECK(body.find("replace_peers") == std::string::npos);
		CHECK(body.find("public_key=" + hex(PUB2) + "\nremove=true\n") !=
		      std::string::npos);
		DeviceConfig now = dev.config();
		REQUIRE(now.peers.size() == 2);
		const PeerConfig *p3 = now.find_peer(key(PUB3));
		REQUIRE(p3);
		CHECK(p3->allowed_ips.size() == 1);
		CHECK(p3->allowed_ips[0].to_string() == "198.51.100.0/25");
		CHECK(p3->endpoint); // syncconf keeps what the file does not mention
		ConfigDelta d = dev.last_delta();
		CHECK(d.peers_removed.size() == 1);
		CHECK(d.peers_added.size() == 1);
		CHECK(d.peers_updated.size() == 1);
	}
}
