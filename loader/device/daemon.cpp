// device/daemon.cpp — set-up, event loop and teardown of one interface; see daemon.h.
#include "loader/device/daemon.h"
#include "loader/device/daemon_impl.h"

#include "loader/kernel/attach.h"
#include "loader/kernel/cpu_list.h"
#include "loader/kernel/dataplane.h"
#include "loader/device/daemon_lock.h"
#include "loader/device/daemon_metrics.h"
#include "loader/device/device.h"
#include "loader/device/leftovers.h"
#include "loader/control/running_state.h"
#include "loader/device/mtu.h"
#include "loader/kernel/netdev.h"
#include "loader/device/receive_reassembled.h"
#include "loader/control/uapi_server.h"
#include "loader/control/wg_quick_hooks.h"
#include "loader/control/wg_quick_save.h"
#include "loader/kernel/udp_socket.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <malloc.h>
#include <sodium.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace xwg {

namespace {

// How often peer_stats are polled and timers run.
constexpr std::uint64_t TICK_NS = 100'000'000ULL;
// How often every endpoint's route is looked up again even when nothing announced a
// change: learned path MTUs expire (10 minutes by default) without a notification.
constexpr std::uint64_t ROUTE_REFRESH_TICKS = 300;

} // namespace

void daemon_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	std::fputs("xwg: ", stderr);
	std::vfprintf(stderr, fmt, ap);
	std::fputc('\n', stderr);
	va_end(ap);
}

namespace {

void make_dir(const std::string &path, mode_t mode)
{
	if (mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
		throw std::runtime_error(path + ": " + std::strerror(errno));
}

// bpffs at /sys/fs/bpf (mounted if missing) and /sys/fs/bpf/xwg (0700).
void ensure_bpffs()
{
	struct statfs st{};
	if (statfs("/sys/fs/bpf", &st) < 0 || st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
			throw std::runtime_error(std::string("mounting bpffs on /sys/fs/bpf: ") +
						 std::strerror(errno) +
						 " (inside `ip netns exec`? use nsenter --net=...)");
	}
	make_dir(XWG_PIN_ROOT, 0700);
	chmod(XWG_PIN_ROOT, 0700);
}

} // namespace

// Replaces @path whole (a temporary file renamed over it), created with @mode.
void write_file_atomic(const std::string &path, const std::string &text, mode_t mode)
{
	const std::string tmp = path + ".tmp";
	const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		throw std::runtime_error(tmp + ": " + std::strerror(errno));
	std::size_t done = 0;
	while (done < text.size()) {
		const ssize_t n = write(fd, text.data() + done, text.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			const int err = errno;
			close(fd);
			unlink(tmp.c_str());
			throw std::runtime_error(tmp + ": " + std::strerror(err));
		}
		done += static_cast<std::size_t>(n);
	}
	close(fd);
	if (rename(tmp.c_str(), path.c_str()) < 0)
		throw std::runtime_error(path + ": " + std::strerror(errno));
}

std::string read_text_file(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		throw std::runtime_error(path + ": cannot read");
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

namespace {

long pid_in_file(const std::string &path)
{
	long pid = 0;
	std::ifstream(path) >> pid;
	return pid;
}


} // namespace

std::string pid_file_path(const std::string &ifname)
{
	return std::string(XWG_RUN_DIR) + "/" + ifname + ".pid";
}
std::string state_file_path(const std::string &ifname)
{
	return std::string(XWG_RUN_DIR) + "/" + ifname + ".state";
}
std::string log_file_path(const std::string &ifname)
{
	return std::string(XWG_RUN_DIR) + "/" + ifname + ".log";
}
std::string pin_dir_path(const std::string &ifname)
{
	return std::string(XWG_PIN_ROOT) + "/" + ifname;
}
std::string running_file_path(const std::string &ifname)
{
	return std::string(XWG_RUN_DIR) + "/" + ifname + ".running";
}

sigset_t daemon_stop_signals()
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, RESTART_SIGNAL);
	return mask;
}


void Daemon::Impl::watch(int fd)
{
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
}

void Daemon::Impl::unwatch(int fd)
{
	if (fd >= 0)
		epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
}

void Daemon::Impl::setup(const ParsedConfig &parsed)
{
	const DeviceConfig &config = parsed.config;
	table = config.iface.table;

	// Refuse to stand on another daemon's toes, before touching anything.
	make_dir(XWG_RUN_DIR, 0755);
	lock = DaemonLock::acquire(ifname);
	if (!lock)
		throw AlreadyRunning(ifname + " is running (daemon pid " +
				     std::to_string(pid_in_file(pid_file_path(ifname))) + ")");
	// Removed last of all, so a new daemon can only lock a new file once we are gone.
	undo.push_back([this] { lock->remove(); });
	if (can_take_over()) {
		take_over(parsed);
		return;
	}
	if (leftovers_exist(ifname)) {
		daemon_log("%s: removing what a daemon that died left behind", ifname.c_str());
		remove_leftovers(ifname);
	}
	if (link_exists(ifname))
		throw std::runtime_error(ifname + ": a device with this name exists already");
	if (link_exists(hidden))
		throw std::runtime_error(hidden + ": a device with this name exists already");
	write_file_atomic(pid_file_path(ifname), std::to_string(getpid()) + "\n");
	undo.push_back([this] { unlink(pid_file_path(ifname).c_str()); });
	wg_quick = parsed.wg_quick;
	config_path = parsed.path;
	file_mtu = config.iface.mtu != AUTOMATIC_MTU;
	undo.push_back([this] {
		if (up_complete)
			run_hooks("PostDown", wg_quick.post_down, ifname);
	});
	run_hooks("PreUp", wg_quick.pre_up, ifname);

	// Underlays: configured, else the default route's device.
	std::vector<std::string> underlays = config.iface.underlays;
	if (underlays.empty()) {
		auto dev = default_route_device(nl);
		if (!dev)
			throw std::runtime_error("no default route to find the underlay device; "
						 "set Underlay = IF in [Interface]");
		underlays.push_back(*dev);
	}
	if (underlays.size() > 4)
		throw std::runtime_error("at most 4 underlay devices are supported");
	std::vector<int> underlay_ifindex;
	for (const auto &u : underlays) {
		if (u == ifname)
			throw std::runtime_error("Underlay " + u + " is the tunnel itself");
		underlay_ifindex.push_back(link_ifindex(u));
	}

	// The tunnel MTU: configured, or wg-quick's rule over the routes to the endpoints.
	DeviceConfig resolved = config;
	if (resolved.iface.mtu == AUTOMATIC_MTU) {
		udp.set_underlays(std::vector<unsigned>(underlay_ifindex.begin(), underlay_ifindex.end()));
		resolved.iface.mtu = automatic_mtu(config, udp.routes(), udp.underlays());
		if (auto why = mtu_problem(resolved, resolved.iface.mtu))
			throw std::runtime_error("the automatic " + *why +
						 " (the underlay's path MTU minus " +
						 std::to_string(XWG_MTU_OVERHEAD) +
						 "); set MTU = in [Interface]");
	}
	const unsigned mtu = resolved.iface.mtu;

	// The data plane, pinned.
	ensure_bpffs();
	DataplaneOptions opts;
	opts.pin_dir = pin_dir_path(ifname);
	dp = std::make_unique<Dataplane>(opts);
	undo.push_back([this] {
		dp->unpin();
		rmdir(pin_dir_path(ifname).c_str());
	});

	// The tunnel device.
	veth_create(nl, ifname, hidden, mtu);
	undo.push_back([this] { link_delete_quiet(nl, ifname); });
	offloads_off(ifname);
	gro_off(hidden);
	link_prepare_and_up(nl, hidden);
	link_prepare_and_up(nl, ifname);
	visible_ifindex = link_ifindex(ifname);
	const int hidden_ifindex = link_ifindex(hidden);

	xwg_config cfg{};
	cfg.mtu = static_cast<__u16>(mtu);
	cfg.tunnel_ifindex = static_cast<__u32>(hidden_ifindex);
	auto vmac = link_mac(ifname), hmac = link_mac(hidden);
	std::memcpy(cfg.tunnel_mac, vmac.data(), 6);
	std::memcpy(cfg.hidden_mac, hmac.data(), 6);
	for (std::size_t i = 0; i < underlay_ifindex.size(); ++i)
		cfg.underlay_ifindex[i] = static_cast<__u32>(underlay_ifindex[i]);
	cfg.rekey_after_messages = timers.rekey_after_messages;
	cfg.reject_after_messages = timers.reject_after_messages;
	cfg.fwmark = config.iface.fwmark;
	cfg.rekey_after_time_ns = timers.rekey_after_time_ns;
	cfg.reject_after_time_ns = timers.reject_after_time_ns;
	cfg.rekey_timeout_ns = timers.rekey_timeout_ns;
	// Decrypt on a CPU chosen per keypair (cpumap) when there are two or more;
	// XWG_RX_CPUMAP=0 turns it off.
	if (const char *e = std::getenv("XWG_RX_CPUMAP"); !(e && std::string(e) == "0")) {
		const auto online = online_cpus();
		if (online.size() >= 2 && dp->enable_rx_cpus(online, cfg) == 0)
			daemon_log("rx_cpumap: %s: decrypting on the receiving CPU",
			    online[1] >= XWG_MAX_RX_CPUS ? "fewer than two online CPUs below 64"
							 : std::strerror(errno));
	}
	if (!dp->set_config(cfg))
		throw std::runtime_error(std::string("writing the config map: ") + std::strerror(errno));
	// Keys die 3 x REJECT_AFTER_TIME after their birth even when this daemon does not
	// live that long (bpf/lib/key_reaper.h); `xwg down` stops it by unpinning the maps.
	if (!dp->arm_key_reaper(XWG_KEY_REAPER_PERIOD_NS))
		throw std::runtime_error(std::string("starting the key reaper: ") + std::strerror(errno));

	// Programs: TX on the hidden end, XDP_PASS on the visible end, RX on the underlays.
	tc_ingress_attach(hidden_ifindex, dp->tx_prog_fd(), hidden);
	xdp_attach(visible_ifindex, dp->tun_prog_fd(), ifname);
	// Receive: native XDP where the driver offers it at the underlay's MTU, else TC
	// ingress. Never generic XDP: it hands XDP an skb whose checksum verdict and
	// ownership the rest of the stack still trusts (README, "Drivers and receive paths").
	nlohmann::json state_underlays = nlohmann::json::array();
	const ReceivePath wanted = config.iface.receive_path;
	for (std::size_t i = 0; i < underlays.size(); ++i) {
		const int idx = underlay_ifindex[i];
		const std::string &dev = underlays[i];
		std::string why;
		bool xdp = false;
		if (wanted != ReceivePath::tc) {
			xdp = xdp_attach_native(idx, dp->rx_prog_fd(), dev, &why);
			if (!xdp && wanted == ReceivePath::xdp)
				throw std::runtime_error(dev + ": ReceivePath = xdp, but the driver has no "
							       "native XDP at MTU " +
							 std::to_string(link_mtu(static_cast<unsigned>(idx))) +
							 " (" + why + ")");
		}
		if (xdp) {
			const int fd = dp->rx_prog_fd();
			undo.push_back([idx, fd] { xdp_detach_quiet(idx, fd); });
		} else {
			if (wanted == ReceivePath::automatic)
				daemon_log("%s: no native XDP (%s): receiving on TC ingress", dev.c_str(),
				    why.c_str());
			tc_ingress_attach(idx, dp->rx_tc_prog_fd(), dev);
			const int fd = dp->rx_tc_prog_fd();
			undo.push_back([idx, fd] { tc_ingress_detach_prog_quiet(idx, fd); });
		}
		state_underlays.push_back(
			{{"name", dev}, {"ifindex", idx}, {"receive", xdp ? "xdp native" : "tc"}});
	}

	for (const auto &a : config.iface.addresses)
		address_add(nl, visible_ifindex, a);
	if (dns_set(ifname, wg_quick))
		undo.push_back([this] { dns_unset(ifname); });

	// Peers, keys, sockets, allowed IPs and routes: the same path as `wg setconf`.
	// The daemon's own datagrams leave through the underlays, whatever the routes say.
	udp.set_underlays(std::vector<unsigned>(underlay_ifindex.begin(), underlay_ifindex.end()));
	create_device();
	try {
		device->apply(resolved, config_diff(DeviceConfig{}, resolved));
	} catch (const UapiError &e) {
		throw std::runtime_error(e.what());
	}
	// Parsing and applying a large configuration leaves free heap behind (65,536 peers:
	// tens of MB); give it back.
	malloc_trim(0);
	start_serving(state_underlays, parsed);
	run_hooks("PostUp", wg_quick.post_up, ifname, keep_serving());
	up_complete = true;
}

// The device, its UAPI server and the route hook; set up or taken over alike.
void Daemon::Impl::create_device()
{
	uapi = std::make_unique<UapiServer>(
		ifname, [this](UapiOp op, std::string_view body) { return handle_uapi(op, body); });
	undo.push_back([this] { uapi.reset(); });
	device = std::make_unique<Device>(*dp, udp, timers, [this](const Cidr &c, bool add) {
		// A default route (/0) goes in as its two halves (/1 each): more specific than
		// the main table's default, which stays for the underlay. The tunnel's own
		// packets never take them: xwg_tx sends with the underlay as output device, and
		// the daemon's sockets pin theirs to it (IP_PKTINFO).
		std::vector<Cidr> routes{c};
		if (c.prefix == 0 && table.kind == RouteTable::Kind::automatic) {
			Cidr lower = c, upper = c;
			lower.prefix = upper.prefix = 1;
			upper.addr.bytes[0] = 0x80;
			routes = {lower, upper};
		}
		for (const Cidr &r : routes) {
			if (add)
				route_add(nl, visible_ifindex, r, table); // throws: the set fails
			else
				route_delete_quiet(nl, visible_ifindex, r, table);
		}
	}, noise::boottime_ns);
	undo.push_back([this] {
		reassembled.reset();
		device->shutdown();
		device.reset();
	});
}

// The event loop's sources and the files that say the interface is served.
void Daemon::Impl::start_serving(const nlohmann::json &state_underlays, const ParsedConfig &parsed)
{
	const int hidden_ifindex = link_ifindex(hidden);
	// Data messages that reach the socket (reassembled from fragments).
	unsigned reassembled_pps = REASSEMBLED_DEFAULT_PPS;
	if (const char *e = std::getenv("XWG_REASSEMBLED_PPS"))
		reassembled_pps = static_cast<unsigned>(std::strtoul(e, nullptr, 10));
	reassembled = std::make_unique<ReassembledReceiver>(
		*dp, static_cast<unsigned>(hidden_ifindex), udp.underlays(), reassembled_pps);

	std::vector<std::string> underlays;
	for (const auto &u : state_underlays)
		underlays.push_back(u.value("name", ""));
	metrics = std::make_unique<DaemonMetrics>(ifname, *device, *dp, underlays,
						  parsed.metrics_listen);
	undo.push_back([this] { metrics.reset(); });

	// The event loop's sources.
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	timer_fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	const sigset_t mask = daemon_stop_signals();
	sigprocmask(SIG_BLOCK, &mask, nullptr);
	signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (epoll_fd < 0 || timer_fd < 0 || signal_fd < 0)
		throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
	// Both rings (events, then staged packets) behind one epoll fd.
	ring_buffer_sample_fn on_record = [](void *ctx, void *data, size_t size) -> int {
		static_cast<Impl *>(ctx)->device->on_event(data, size);
		return 0;
	};
	ring = ring_buffer__new(dp->events_fd(), on_record, this, nullptr);
	if (!ring || ring_buffer__add(ring, dp->staged_fd(), on_record, this))
		throw std::runtime_error(std::string("ring buffer: ") + std::strerror(errno));
	itimerspec its{};
	its.it_interval.tv_nsec = TICK_NS;
	its.it_value.tv_nsec = TICK_NS;
	timerfd_settime(timer_fd, 0, &its, nullptr);
	watch(timer_fd);
	watch(signal_fd);
	watch(ring_buffer__epoll_fd(ring));
	watch(uapi->fd());
	if (metrics->fd() >= 0)
		watch(metrics->fd());
	watch(route_watch.fd());
	watch(udp.fd4());
	if (udp.fd6() >= 0)
		watch(udp.fd6());

	nlohmann::json state = {
		{"interface", ifname},
		{"hidden", hidden},
		{"pid", getpid()},
		{"pin_dir", pin_dir_path(ifname)},
		{"uapi_socket", UapiServer::socket_path(ifname)},
		{"underlays", state_underlays},
		{"started_ns", noise::boottime_ns()},
		{"took_over", took_over},
	};
	write_file_atomic(state_file_path(ifname), state.dump(2) + "\n");
	undo.push_back([this] { unlink(state_file_path(ifname).c_str()); });
	save_running_state();
	undo.push_back([this] { unlink(running_file_path(ifname).c_str()); });
}

// After every change: what a daemon taking over will find the peers by.
void Daemon::Impl::save_running_state()
{
	RunningState running{device->config(), device->peer_ids()};
	std::string text = running_state_to_json(running);
	try {
		write_file_atomic(running_file_path(ifname), text, 0600);
	} catch (const std::exception &e) {
		daemon_log("%s: saving the running state: %s (a restart would not find it)",
		    ifname.c_str(), e.what());
	}
	sodium_memzero(text.data(), text.size());
}

// The UAPI socket stays served while a hook runs: `wg set %i ...` is a common PostUp.
KeepServing Daemon::Impl::keep_serving()
{
	KeepServing serving;
	if (uapi) {
		serving.fd = uapi->fd();
		serving.service = [this] {
			uapi->service();
		};
	}
	return serving;
}

// The start of a normal down, while the tunnel still runs: PreDown, then SaveConfig (in
// wg-quick's order). A failure is logged and the down goes on: unlike `wg-quick down`,
// which stops at a failing PreDown, the daemon is on its way out either way.
void Daemon::Impl::going_down()
{
	try {
		run_hooks("PreDown", wg_quick.pre_down, ifname, keep_serving());
	} catch (const std::exception &e) {
		daemon_log("%s", e.what());
	}
	if (!wg_quick.save_config)
		return;
	try {
		if (config_path.empty())
			throw std::runtime_error("SaveConfig: the configuration came from no file");
		DeviceConfig running = device->config();
		running.iface.addresses = link_addresses(ifname);
		running.iface.mtu =
			file_mtu ? link_mtu(static_cast<unsigned>(visible_ifindex)) : AUTOMATIC_MTU;
		for (auto &peer : running.peers)
			if (auto learned = device->runtime(peer.public_key).endpoint)
				peer.endpoint = learned;
		save_config_file(config_path, wg_quick_file_text(running, wg_quick));
		daemon_log("%s: configuration saved to %s", ifname.c_str(), config_path.c_str());
	} catch (const std::exception &e) {
		daemon_log("%s", e.what());
	}
}

std::string Daemon::Impl::handle_uapi(UapiOp op, std::string_view body)
{
	if (op == UapiOp::get)
		return uapi_get_response(device->config(),
					 [this](const PublicKey &k) { return device->runtime(k); });
	bool rebound = false; // new sockets: the new port's, or the old one's after an undo
	std::string response = uapi_errno_response(0);
	try {
		UapiSetRequest request = uapi_parse_set(body);
		UapiApplied applied = uapi_apply_set(device->config(), request);
		if (auto why = mtu_problem(applied.config, applied.config.iface.mtu))
			throw UapiError(UAPI_ERROR_INVALID, *why);
		rebound = applied.delta.listen_port;
		device->apply(applied.config, applied.delta);
		save_running_state();
	} catch (const UapiError &e) {
		daemon_log("uapi set refused: %s", e.what());
		response = uapi_errno_response(e.code());
	}
	// epoll forgot the closed sockets, and a new one may have an old one's number.
	for (int fd : {udp.fd4(), udp.fd6()})
		if (rebound && fd >= 0) {
			unwatch(fd);
			watch(fd);
		}
	return response;
}

// `ip link set IF mtu N` is how WireGuard users change a tunnel's MTU: follow it on both
// ends of the veth and in the data plane, or put the old one back when N cannot work.
void Daemon::Impl::follow_tunnel_mtu()
{
	const unsigned now = link_mtu(static_cast<unsigned>(visible_ifindex));
	auto cfg = dp->config();
	if (!now || !cfg || now == cfg->mtu)
		return;
	DeviceConfig next = device->config();
	next.iface.mtu = now;
	try {
		if (auto why = mtu_problem(next, now)) {
			daemon_log("%s: %s; the MTU stays %u", ifname.c_str(), why->c_str(), cfg->mtu);
			link_set_mtu(nl, ifname, cfg->mtu);
			return;
		}
		link_set_mtu(nl, hidden, now);
	} catch (const std::exception &e) {
		daemon_log("%s: following the MTU: %s", ifname.c_str(), e.what());
		return;
	}
	cfg->mtu = static_cast<__u16>(now);
	dp->set_config(*cfg);
	device->set_mtu(now);
	save_running_state();
	daemon_log("%s: MTU %u", ifname.c_str(), now);
}

void Daemon::Impl::drain_udp(int fd)
{
	// ICMP errors first: a Packet Too Big lowers an endpoint's path MTU.
	if (UdpSockets::drain_errors(fd))
		routes_changed = true;
	std::vector<UdpSockets::Datagram> queue;
	const std::uint64_t now = noise::boottime_ns();
	while (queue.size() < XWG_MAX_QUEUED_INCOMING_HANDSHAKES) {
		auto d = UdpSockets::receive(fd);
		if (!d)
			break;
		// Data messages here came in fragments: xwg_rx's code decrypts them.
		if (d->data.size() >= sizeof(xwg_msg_header) &&
		    d->data[0] == XWG_MSG_DATA && !d->data[1] && !d->data[2] && !d->data[3]) {
			reassembled->receive(*d, udp.port(), now);
			continue;
		}
		queue.push_back(std::move(*d));
	}
	// The load the handshake path sees: the whole batch this wakeup found waiting, or
	// the most there can be when the socket has dropped datagrams since the last one.
	std::size_t depth = queue.size();
	std::uint32_t &seen = socket_drops_seen[fd == udp.fd6() ? 1 : 0];
	if (!queue.empty() && queue.back().socket_drops != seen) {
		seen = queue.back().socket_drops;
		depth = XWG_MAX_QUEUED_INCOMING_HANDSHAKES;
	}
	for (const auto &d : queue)
		device->on_datagram(d, depth);
}

void Daemon::Impl::teardown()
{
	if (up_complete && !restart)
		going_down();
	if (ring)
		ring_buffer__free(ring);
	ring = nullptr;
	for (int *fd : {&epoll_fd, &timer_fd, &signal_fd})
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
	udp.close_all();
	if (restart) {
		// The next daemon takes over what runs: stop serving, change nothing.
		uapi.reset();
		reassembled.reset();
		if (device)
			device->detach();
		device.reset();
		dp.reset();
		undo.clear();
		return;
	}
	while (!undo.empty()) {
		auto step = std::move(undo.back());
		undo.pop_back();
		try {
			step();
		} catch (const std::exception &e) {
			daemon_log("teardown: %s", e.what());
		}
	}
	dp.reset();
}

Daemon::Daemon(const std::string &ifname, const ParsedConfig &parsed, const TimerSettings &timers)
	: impl_(std::make_unique<Impl>())
{
	impl_->ifname = ifname;
	impl_->hidden = hidden_device_name(ifname);
	impl_->timers = timers;
	try {
		impl_->setup(parsed);
	} catch (...) {
		// A take-over that failed half-way leaves the tunnel to the programs, as the
		// daemon before did; `xwg down` removes it.
		impl_->restart = impl_->took_over;
		impl_->teardown();
		throw;
	}
}

Daemon::~Daemon()
{
	impl_->teardown();
}

bool Daemon::restart_requested() const
{
	return impl_->restart;
}

bool Daemon::took_over() const
{
	return impl_->took_over;
}

void Daemon::hand_over_lock()
{
	if (impl_->lock)
		impl_->lock->release_for_exec();
}

int Daemon::run()
{
	Impl &d = *impl_;
	daemon_log("%s is up (pid %d)", d.ifname.c_str(), static_cast<int>(getpid()));
	for (;;) {
		epoll_event events[16];
		int n = epoll_wait(d.epoll_fd, events, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			daemon_log("epoll_wait: %s", std::strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; ++i) {
			int fd = events[i].data.fd;
			if (fd == d.signal_fd) {
				signalfd_siginfo si{};
				if (read(d.signal_fd, &si, sizeof(si)) == sizeof(si)) {
					d.restart = static_cast<int>(si.ssi_signo) == RESTART_SIGNAL;
					daemon_log("%s: signal %u, %s", d.ifname.c_str(), si.ssi_signo,
					    d.restart ? "restarting (the data plane keeps running)"
						      : "going down");
					return 0;
				}
			} else if (fd == d.timer_fd) {
				std::uint64_t expirations;
				(void)!read(d.timer_fd, &expirations, sizeof(expirations));
				if (++d.ticks % ROUTE_REFRESH_TICKS == 0)
					d.routes_changed = true;
				if (d.routes_changed) {
					d.routes_changed = false;
					d.follow_tunnel_mtu();
					d.device->refresh_routes();
				}
				d.device->tick(noise::boottime_ns());
				d.metrics->tick();
			} else if (fd == ring_buffer__epoll_fd(d.ring)) {
				ring_buffer__consume(d.ring);
			} else if (fd == d.uapi->fd()) {
				d.uapi->service();
			} else if (fd == d.metrics->fd()) {
				d.metrics->service();
			} else if (fd == d.route_watch.fd()) {
				d.routes_changed |= d.route_watch.drain();
			} else if (fd == d.udp.fd4() || fd == d.udp.fd6()) {
				d.drain_udp(fd);
			}
		}
	}
}

} // namespace xwg
