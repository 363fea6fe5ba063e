// kernel/dataplane.cpp — loads xwg_rx, xwg_tx, xwg_tun and xwg_ctl through their libbpf
// skeletons with one set of maps (created by xwg_rx, reused by the others), optionally pins
// them, and gives typed access to them.
#include "loader/kernel/dataplane.h"

#include "loader/kernel/grace_period.h"
#include "loader/kernel/map_layout.h"

#include "xwg_ctl.skel.h"
#include "xwg_rx.skel.h"
#include "xwg_tun.skel.h"
#include "xwg_tx.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace xwg {
namespace {

std::runtime_error failure(const std::string &what, int err)
{
	return std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

// The maps xwg_rx declares, by pinned name; xwg_tx and xwg_tun reuse them.
template <typename Skel> std::vector<bpf_map *> maps_of(Skel *s)
{
	std::vector<bpf_map *> out;
	bpf_map *m;
	bpf_object__for_each_map(m, s->obj) out.push_back(m);
	return out;
}

bool is_internal(bpf_map *m)
{
	// .rodata/.bss/.data of each object stay private to it.
	return std::strchr(bpf_map__name(m), '.') != nullptr;
}

// Points every named map of @obj at xwg_rx's.
void share_maps(bpf_object *obj, bpf_object *rx, const char *name)
{
	bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		if (is_internal(m))
			continue;
		bpf_map *src = bpf_object__find_map_by_name(rx, bpf_map__name(m));
		if (!src)
			throw std::runtime_error(std::string(name) + " map " + bpf_map__name(m) +
						 " has no counterpart in xwg_rx");
		if (int err = bpf_map__reuse_fd(m, bpf_map__fd(src)))
			throw failure(std::string("share map ") + bpf_map__name(m), err);
	}
}

template <typename T> T *mmap_array(int fd, std::size_t entries, std::size_t &len, const char *name)
{
	const std::size_t page = static_cast<std::size_t>(getpagesize());
	len = (entries * sizeof(T) + page - 1) & ~(page - 1);
	void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		throw failure(std::string("mmap ") + name, errno);
	return static_cast<T *>(p);
}

int possible_cpus()
{
	static const int n = libbpf_num_possible_cpus();
	return n;
}

// Points every named map of xwg_rx at its pin in @dir, after checking the pins' layout
// record against this build's and each pin's type and sizes against the object's.
void reuse_pinned_maps(bpf_object *rx, const std::string &dir, const xwg_layout &ours)
{
	const std::string layout_path = dir + "/" + XWG_MAP_LAYOUT;
	const int lfd = bpf_obj_get(layout_path.c_str());
	if (lfd < 0)
		throw LayoutMismatch(layout_path + ": " + std::strerror(errno) +
				     " (pinned by an xwg that records no layout)");
	xwg_layout theirs{};
	std::uint32_t zero = 0;
	const int err = bpf_map_lookup_elem(lfd, &zero, &theirs);
	close(lfd);
	if (err)
		throw failure("read " + layout_path, errno);
	if (std::memcmp(&ours, &theirs, sizeof(ours)) != 0)
		throw LayoutMismatch("the pinned maps have layout " + to_short_hex(theirs) +
				     ", this xwg's is " + to_short_hex(ours));
	bpf_map *m;
	bpf_object__for_each_map(m, rx)
	{
		if (is_internal(m))
			continue;
		const std::string path = dir + "/" + bpf_map__name(m);
		const int fd = bpf_obj_get(path.c_str());
		if (fd < 0)
			throw LayoutMismatch(path + ": " + std::strerror(errno));
		bpf_map_info info{};
		std::uint32_t len = sizeof(info);
		const bool same = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
				  info.type == static_cast<std::uint32_t>(bpf_map__type(m)) &&
				  info.key_size == bpf_map__key_size(m) &&
				  info.value_size == bpf_map__value_size(m) &&
				  info.max_entries == bpf_map__max_entries(m);
		const int reuse = same ? bpf_map__reuse_fd(m, fd) : 0;
		close(fd);
		if (!same)
			throw LayoutMismatch(path + ": type or sizes differ from this xwg's");
		if (reuse)
			throw failure("reuse " + path, reuse);
	}
}

} // namespace

void adopt_pinned_maps(bpf_object *obj, const std::string &pin_dir)
{
	reuse_pinned_maps(obj, pin_dir, map_layout_digest(obj));
}

Dataplane::Dataplane(const DataplaneOptions &opts) : pin_dir_(opts.pin_dir), adopted_(opts.adopt)
{
	try {
		rx_ = xwg_rx__open();
		if (!rx_)
			throw failure("open xwg_rx", errno);
		// Before load: libbpf adjusts some maps' sizes while loading.
		const xwg_layout layout = map_layout_digest(rx_->obj);
		if (adopted_)
			reuse_pinned_maps(rx_->obj, pin_dir_, layout);
		tx_ = xwg_tx__open();
		if (!tx_)
			throw failure("open xwg_tx", errno);
		tun_ = xwg_tun__open();
		if (!tun_)
			throw failure("open xwg_tun", errno);
		ctl_ = xwg_ctl__open();
		if (!ctl_)
			throw failure("open xwg_ctl", errno);
		if (int err = xwg_rx__load(rx_))
			throw failure("load xwg_rx (see the verifier log above)", err);
		share_maps(tx_->obj, rx_->obj, "xwg_tx");
		share_maps(ctl_->obj, rx_->obj, "xwg_ctl");
		if (int err = xwg_tx__load(tx_))
			throw failure("load xwg_tx (see the verifier log above)", err);
		if (int err = xwg_tun__load(tun_))
			throw failure("load xwg_tun", err);
		if (int err = xwg_ctl__load(ctl_))
			throw failure("load xwg_ctl (see the verifier log above)", err);

		keypair_slots_ = mmap_array<xwg_keypair_slot>(bpf_map__fd(rx_->maps.keypair_slots),
							      XWG_MAX_KEYPAIRS, keypair_slots_len_,
							      "keypair_slots");
		peers_ = mmap_array<xwg_peer>(bpf_map__fd(rx_->maps.peers), XWG_MAX_PEERS,
					      peers_len_, "peers");

		grace_ = std::make_unique<GracePeriod>();

		if (!adopted_) {
			std::uint32_t zero = 0;
			if (bpf_map_update_elem(bpf_map__fd(rx_->maps.layout), &zero, &layout, 0))
				throw failure("write the layout record", errno);
		}
		if (!pin_dir_.empty() && !adopted_) {
			std::filesystem::remove_all(pin_dir_);
			std::filesystem::create_directories(pin_dir_);
			std::filesystem::permissions(pin_dir_, std::filesystem::perms::owner_all);
			for (bpf_map *m : maps_of(rx_)) {
				if (is_internal(m))
					continue;
				std::string path = pin_dir_ + "/" + bpf_map__name(m);
				if (int err = bpf_map__pin(m, path.c_str()))
					throw failure("pin " + path, err);
			}
		}
	} catch (...) {
		if (!pin_dir_.empty() && !adopted_)
			unpin();
		release();
		throw;
	}
}

Dataplane::~Dataplane() { release(); }

void Dataplane::release()
{
	if (keypair_slots_)
		munmap(keypair_slots_, keypair_slots_len_);
	keypair_slots_ = nullptr;
	grace_.reset();
	if (peers_)
		munmap(peers_, peers_len_);
	peers_ = nullptr;
	xwg_ctl__destroy(ctl_);
	xwg_tun__destroy(tun_);
	xwg_tx__destroy(tx_);
	xwg_rx__destroy(rx_);
	ctl_ = nullptr;
	tun_ = nullptr;
	tx_ = nullptr;
	rx_ = nullptr;
}

int Dataplane::run_reassembled(std::span<const uint8_t> frame, unsigned ingress_ifindex,
				std::vector<uint8_t> &out)
{
	// Room for the largest message; the program only ever shortens the frame.
	out.resize(frame.size() + 64);
	xdp_md ctx{};
	ctx.data_end = static_cast<__u32>(frame.size());
	ctx.ingress_ifindex = ingress_ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
		    .data_out = out.data(), .data_size_in = static_cast<__u32>(frame.size()),
		    .data_size_out = static_cast<__u32>(out.size()), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int fd = bpf_program__fd(rx_->progs.xwg_rx_reassembled);
	int err = bpf_prog_test_run_opts(fd, &opts);
	if (err && ingress_ifindex) {
		// The device may be gone (or refuse test runs): run it without one; the
		// programs then learn a roamed endpoint without its underlay.
		ctx.ingress_ifindex = 0;
		opts.data_size_out = static_cast<__u32>(out.size());
		err = bpf_prog_test_run_opts(fd, &opts);
	}
	if (err) {
		failed_calls_++;
		return err < 0 ? err : -EIO;
	}
	out.resize(opts.data_size_out);
	return static_cast<int>(opts.retval);
}

void Dataplane::unpin()
{
	std::error_code ec;
	if (!pin_dir_.empty())
		std::filesystem::remove_all(pin_dir_, ec);
}

int Dataplane::rx_prog_fd() const { return bpf_program__fd(rx_->progs.xwg_rx); }
int Dataplane::rx_tc_prog_fd() const { return bpf_program__fd(rx_->progs.xwg_rx_tc); }
int Dataplane::tx_prog_fd() const { return bpf_program__fd(tx_->progs.xwg_tx); }
int Dataplane::tun_prog_fd() const { return bpf_program__fd(tun_->progs.xwg_tun); }
unsigned Dataplane::enable_rx_cpus(const std::vector<unsigned> &cpus, xwg_config &cfg)
{
	bpf_cpumap_val val{};
	val.qsize = XWG_RX_CPUMAP_QSIZE;
	val.bpf_prog.fd = bpf_program__fd(rx_->progs.xwg_rx_cpumap);
	unsigned n = 0;
	cfg.rx_cpus = 0;
	for (uint32_t cpu : cpus) {
		if (cpu >= XWG_MAX_RX_CPUS)
			break;
		if (!update(bpf_map__fd(rx_->maps.rx_cpumap), &cpu, &val))
			return 0;
		cfg.rx_cpu_ids[n++] = static_cast<__u16>(cpu);
	}
	cfg.rx_cpus = n >= 2 ? n : 0;
	return cfg.rx_cpus;
}

std::vector<PinnedKeypair> Dataplane::pinned_keypairs() const
{
	std::vector<PinnedKeypair> out;
	const int fd = bpf_map__fd(rx_->maps.keypairs);
	std::uint32_t key = 0, next = 0;
	bool first = true;
	while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
		first = false;
		key = next;
		PinnedKeypair kp{};
		kp.local_index = key;
		if (bpf_map_lookup_elem_flags(fd, &key, &kp.value, BPF_F_LOCK))
			continue; // deleted meanwhile
		if (kp.value.counter_slot < XWG_MAX_KEYPAIRS)
			kp.slot = keypair_slots_[kp.value.counter_slot];
		out.push_back(kp);
		sodium_memzero(&kp, sizeof(kp));
	}
	return out;
}

std::vector<PinnedAllowedIp> Dataplane::pinned_allowed_ips() const
{
	std::vector<PinnedAllowedIp> out;
	auto walk = [&](int fd, auto key, std::uint8_t len) {
		decltype(key) next{};
		bool first = true;
		while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
			first = false;
			key = next;
			std::uint32_t peer_id;
			if (bpf_map_lookup_elem(fd, &key, &peer_id))
				continue;
			PinnedAllowedIp a{};
			std::memcpy(a.addr.data(), key.addr, len);
			a.addr_len = len;
			a.prefixlen = static_cast<std::uint8_t>(key.prefixlen);
			a.peer_id = peer_id;
			out.push_back(a);
		}
	};
	walk(bpf_map__fd(rx_->maps.allowed_ips4), xwg_lpm4_key{}, 4);
	walk(bpf_map__fd(rx_->maps.allowed_ips6), xwg_lpm6_key{}, 16);
	return out;
}

int Dataplane::events_fd() const { return bpf_map__fd(rx_->maps.events); }
int Dataplane::staged_fd() const { return bpf_map__fd(rx_->maps.staged); }

bool Dataplane::update(int fd, const void *key, const void *value, uint64_t flags)
{
	if (bpf_map_update_elem(fd, key, value, flags) == 0)
		return true;
	failed_calls_++;
	return false;
}

bool Dataplane::lookup(int fd, const void *key, void *value) const
{
	return bpf_map_lookup_elem(fd, key, value) == 0;
}

bool Dataplane::set_config(const xwg_config &cfg)
{
	uint32_t zero = 0;
	return update(bpf_map__fd(rx_->maps.config), &zero, &cfg);
}

std::optional<xwg_config> Dataplane::config() const
{
	uint32_t zero = 0;
	xwg_config cfg;
	if (!lookup(bpf_map__fd(rx_->maps.config), &zero, &cfg))
		return std::nullopt;
	return cfg;
}

bool Dataplane::set_peer(uint32_t peer_id, const xwg_peer &peer)
{
	return update(bpf_map__fd(rx_->maps.peers), &peer_id, &peer);
}

bool Dataplane::clear_peer(uint32_t peer_id)
{
	xwg_peer empty{};
	return set_peer(peer_id, empty) && set_endpoint(peer_id, xwg_endpoint{}) &&
	       reset_peer_stats(peer_id);
}

bool Dataplane::set_peer_flow_ports(uint32_t peer_id, uint32_t flow_ports)
{
	if (peer_id >= XWG_MAX_PEERS || flow_ports > XWG_MAX_FLOW_PORTS) {
		errno = EINVAL;
		return false;
	}
	std::atomic_ref<uint32_t>(peers_[peer_id].flow_ports).store(flow_ports);
	return true;
}

std::optional<xwg_peer> Dataplane::peer(uint32_t peer_id) const
{
	xwg_peer p;
	if (!lookup(bpf_map__fd(rx_->maps.peers), &peer_id, &p))
		return std::nullopt;
	return p;
}

bool Dataplane::set_peer_current(uint32_t peer_id, uint32_t local_index)
{
	if (peer_id >= XWG_MAX_PEERS) {
		errno = EINVAL;
		return false;
	}
	std::atomic_ref<uint32_t>(peers_[peer_id].current_index).store(local_index);
	return true;
}

std::optional<EndpointState> Dataplane::endpoint(uint32_t peer_id) const
{
	xwg_endpoint_slot slot;
	if (bpf_map_lookup_elem_flags(bpf_map__fd(rx_->maps.endpoints), &peer_id, &slot,
				      BPF_F_LOCK))
		return std::nullopt;
	return EndpointState{slot.generation, slot.ep};
}

namespace {

// Runs xwg_endpoint_ctl over @r; false when the run itself failed.
bool run_endpoint_ctl(int prog_fd, xwg_endpoint_request &r)
{
	xwg_endpoint_request out{};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &r, .data_out = &out,
		    .data_size_in = sizeof(r), .data_size_out = sizeof(out), .repeat = 1);
	if (bpf_prog_test_run_opts(prog_fd, &opts) || opts.retval != XDP_PASS)
		return false;
	r = out;
	return true;
}

} // namespace

std::optional<uint32_t> Dataplane::set_endpoint(uint32_t peer_id, const xwg_endpoint &ep)
{
	xwg_endpoint_request r{};
	r.op = XWG_ENDPOINT_SET;
	r.peer_id = peer_id;
	r.ep = ep;
	errno = 0;
	if (!run_endpoint_ctl(bpf_program__fd(ctl_->progs.xwg_endpoint_ctl), r) || !r.result) {
		failed_calls_++;
		if (!errno)
			errno = EINVAL;
		return std::nullopt;
	}
	return r.generation;
}

bool Dataplane::set_endpoint_route(uint32_t peer_id, uint32_t generation, const xwg_endpoint &ep)
{
	xwg_endpoint_request r{};
	r.op = XWG_ENDPOINT_SET_ROUTE;
	r.peer_id = peer_id;
	r.generation = generation;
	r.ep = ep;
	if (!run_endpoint_ctl(bpf_program__fd(ctl_->progs.xwg_endpoint_ctl), r)) {
		failed_calls_++;
		return false;
	}
	return r.result != 0;
}

bool Dataplane::install_keypair(uint32_t local_index, uint32_t slot, const xwg_keypair &kp)
{
	if (slot >= XWG_MAX_KEYPAIRS || kp.counter_slot != slot) {
		errno = EINVAL;
		return false;
	}
	xwg_keypair_slot &s = keypair_slots_[slot];
	std::atomic_ref<__u64>(s.send_counter).store(0);
	std::atomic_ref<uint32_t>(s.local_index).store(local_index);
	std::atomic_ref<uint32_t>(s.state).store(XWG_KEYPAIR_LIVE);
	if (update(bpf_map__fd(rx_->maps.keypairs), &local_index, &kp, BPF_NOEXIST))
		return true;
	std::atomic_ref<uint32_t>(s.state).store(XWG_KEYPAIR_UNUSED);
	return false;
}

void Dataplane::retire_keypair(uint32_t slot)
{
	if (slot < XWG_MAX_KEYPAIRS)
		std::atomic_ref<uint32_t>(keypair_slots_[slot].state).store(XWG_KEYPAIR_RETIRED);
}

bool Dataplane::grace_period()
{
	if (grace_->wait())
		return true;
	failed_calls_++;
	return false;
}

bool Dataplane::wipe_keypair(uint32_t local_index, uint32_t slot)
{
	int fd = bpf_map__fd(rx_->maps.keypairs);
	bool ok = true;
	if (slot >= XWG_MAX_KEYPAIRS ||
	    std::atomic_ref<uint32_t>(keypair_slots_[slot].state).load() == XWG_KEYPAIR_LIVE) {
		errno = EBUSY; // never wipe what a program may be using
		return false;
	}
	// In place under the element's lock (BPF_F_LOCK writes the same memory), so the keys
	// really are gone before the memory goes back to the allocator.
	xwg_keypair zero{};
	if (bpf_map_update_elem(fd, &local_index, &zero, BPF_EXIST | BPF_F_LOCK) && errno != ENOENT) {
		failed_calls_++;
		ok = false;
	}
	if (bpf_map_delete_elem(fd, &local_index) && errno != ENOENT) {
		failed_calls_++;
		ok = false;
	}
	std::atomic_ref<uint32_t>(keypair_slots_[slot].state).store(XWG_KEYPAIR_UNUSED);
	return ok;
}

bool Dataplane::arm_key_reaper(uint64_t period_ns)
{
	xwg_key_reaper_request r{}, out{};
	r.period_ns = period_ns;
	errno = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &r, .data_out = &out,
		    .data_size_in = sizeof(r), .data_size_out = sizeof(out), .repeat = 1);
	if (bpf_prog_test_run_opts(bpf_program__fd(ctl_->progs.xwg_key_reaper_arm), &opts) ||
	    opts.retval != XDP_PASS) {
		failed_calls_++;
		if (!errno)
			errno = EIO;
		return false;
	}
	if (out.result != 0) {
		failed_calls_++;
		errno = -out.result;
		return false;
	}
	return true;
}

std::optional<xwg_key_reaper> Dataplane::key_reaper() const
{
	uint32_t zero = 0;
	xwg_key_reaper r;
	if (!lookup(bpf_map__fd(rx_->maps.key_reaper), &zero, &r))
		return std::nullopt;
	return r;
}

std::optional<xwg_keypair_slot> Dataplane::keypair_slot(uint32_t slot) const
{
	if (slot >= XWG_MAX_KEYPAIRS)
		return std::nullopt;
	xwg_keypair_slot s;
	s.send_counter = std::atomic_ref<__u64>(keypair_slots_[slot].send_counter).load();
	s.state = std::atomic_ref<uint32_t>(keypair_slots_[slot].state).load();
	s.local_index = std::atomic_ref<uint32_t>(keypair_slots_[slot].local_index).load();
	return s;
}

std::optional<xwg_keypair> Dataplane::keypair(uint32_t local_index) const
{
	xwg_keypair kp;
	if (!lookup(bpf_map__fd(rx_->maps.keypairs), &local_index, &kp))
		return std::nullopt;
	return kp;
}

bool Dataplane::set_allowed_ip(const uint8_t *addr, size_t addr_len, uint8_t prefixlen,
			       uint32_t peer_id)
{
	if (addr_len == 4 && prefixlen <= 32) {
		xwg_lpm4_key key{prefixlen, {}};
		std::memcpy(key.addr, addr, 4);
		return update(bpf_map__fd(rx_->maps.allowed_ips4), &key, &peer_id);
	}
	if (addr_len == 16 && prefixlen <= 128) {
		xwg_lpm6_key key{prefixlen, {}};
		std::memcpy(key.addr, addr, 16);
		return update(bpf_map__fd(rx_->maps.allowed_ips6), &key, &peer_id);
	}
	errno = EINVAL;
	return false;
}

bool Dataplane::delete_allowed_ip(const uint8_t *addr, size_t addr_len, uint8_t prefixlen)
{
	int err = -1;
	if (addr_len == 4 && prefixlen <= 32) {
		xwg_lpm4_key key{prefixlen, {}};
		std::memcpy(key.addr, addr, 4);
		err = bpf_map_delete_elem(bpf_map__fd(rx_->maps.allowed_ips4), &key);
	} else if (addr_len == 16 && prefixlen <= 128) {
		xwg_lpm6_key key{prefixlen, {}};
		std::memcpy(key.addr, addr, 16);
		err = bpf_map_delete_elem(bpf_map__fd(rx_->maps.allowed_ips6), &key);
	} else {
		errno = EINVAL;
	}
	if (err)
		failed_calls_++;
	return err == 0;
}

uint64_t Dataplane::take_send_counter(uint32_t slot)
{
	if (slot >= XWG_MAX_KEYPAIRS)
		throw std::out_of_range("send counter slot");
	return std::atomic_ref<__u64>(keypair_slots_[slot].send_counter).fetch_add(1);
}

void Dataplane::reset_send_counter(uint32_t slot, uint64_t value)
{
	if (slot >= XWG_MAX_KEYPAIRS)
		throw std::out_of_range("send counter slot");
	std::atomic_ref<__u64>(keypair_slots_[slot].send_counter).store(value);
}

namespace {

// One peer's per-CPU stats folded: counters summed, timestamps the latest.
PeerStats fold_per_cpu(const xwg_peer_stats *per_cpu, std::size_t cpus)
{
	PeerStats sum{};
	for (std::size_t i = 0; i < cpus; ++i) {
		const auto &s = per_cpu[i];
		sum.rx_bytes += s.rx_bytes;
		sum.tx_bytes += s.tx_bytes;
		sum.rx_packets += s.rx_packets;
		sum.tx_packets += s.tx_packets;
		sum.last_rx_ns = std::max(sum.last_rx_ns, s.last_rx_ns);
		sum.last_rx_data_ns = std::max(sum.last_rx_data_ns, s.last_rx_data_ns);
		sum.last_tx_ns = std::max(sum.last_tx_ns, s.last_tx_ns);
	}
	return sum;
}

} // namespace

PeerStats Dataplane::peer_stats(uint32_t peer_id) const
{
	std::vector<xwg_peer_stats> per_cpu(possible_cpus());
	if (!lookup(bpf_map__fd(rx_->maps.peer_stats), &peer_id, per_cpu.data()))
		return PeerStats{};
	return fold_per_cpu(per_cpu.data(), per_cpu.size());
}

std::vector<PeerStats> Dataplane::peer_stats_range(uint32_t first, uint32_t count) const
{
	if (first >= XWG_MAX_PEERS)
		return {};
	count = std::min<uint32_t>(count, XWG_MAX_PEERS - first);
	const std::size_t cpus = possible_cpus();
	std::vector<PeerStats> out(count);
	if (count == 0)
		return out;
	std::vector<uint32_t> keys(count);
	std::vector<xwg_peer_stats> values(static_cast<std::size_t>(count) * cpus);
	// One syscall for the range. The batch token is the key before the first one
	// (an array's next key is key + 1); none starts at 0. ENOENT: the map ended first.
	uint32_t before = first - 1, next = 0, n = count;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err = bpf_map_lookup_batch(bpf_map__fd(rx_->maps.peer_stats), first ? &before : nullptr,
				       &next, keys.data(), values.data(), &n, &opts);
	if (err && errno != ENOENT) {
		for (uint32_t i = 0; i < count; ++i)
			out[i] = peer_stats(first + i);
		return out;
	}
	for (uint32_t i = 0; i < n && i < count; ++i)
		if (keys[i] >= first && keys[i] - first < count)
			out[keys[i] - first] = fold_per_cpu(&values[i * cpus], cpus);
	return out;
}

bool Dataplane::reset_peer_stats(uint32_t peer_id)
{
	std::vector<xwg_peer_stats> zero(possible_cpus());
	return update(bpf_map__fd(rx_->maps.peer_stats), &peer_id, zero.data());
}

void Dataplane::count_drop(xwg_drop_reason reason)
{
	std::vector<uint64_t> per_cpu(possible_cpus());
	uint32_t key = reason;
	int fd = bpf_map__fd(rx_->maps.drops);
	if (!lookup(fd, &key, per_cpu.data()))
		return;
	per_cpu[0]++;
	update(fd, &key, per_cpu.data());
}

DropCounters Dataplane::drops() const
{
	DropCounters out{};
	std::vector<uint64_t> per_cpu(possible_cpus());
	for (uint32_t r = 0; r < XWG_DROP_REASON_MAX; r++) {
		if (!lookup(bpf_map__fd(rx_->maps.drops), &r, per_cpu.data()))
			continue;
		for (uint64_t v : per_cpu)
			out[r] += v;
	}
	return out;
}

} // namespace xwg
