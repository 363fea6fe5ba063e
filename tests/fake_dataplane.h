// fake_dataplane.h — the data plane, the routes and the network in memory, for unit tests
// of the device (loader/device/dataplane_interface.h, allowedips.h's RouteHook,
// loader/device/network.h). The fake data plane keeps the contract's rules that matter to
// the daemon (a slot is wiped only when not LIVE, an endpoint route only for its
// generation) and records what it was asked to do; the fake routes are a set; the fake
// network hands every datagram to a callback. Any write of the data plane and any route
// add can be made to fail (Faults).
#pragma once

#include "loader/device/allowedips.h"
#include "loader/device/dataplane_interface.h"
#include "loader/device/network.h"

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace xwgtest {

// The calls a test can make fail.
enum class Call {
	set_config,
	set_peer,
	clear_peer,
	reset_peer_stats,
	set_endpoint,
	set_allowed_ip,
	delete_allowed_ip,
	route_add,
};

// Failure injection: fail(call, n) makes the nth call of that kind from now on (1: the
// next one) fail once, with ENOMEM.
class Faults {
public:
	void fail(Call call, int nth) { countdown_[call] = nth; }
	void clear() { countdown_.clear(); }
	// Whether this call fails (errno set when it does).
	bool hit(Call call)
	{
		auto it = countdown_.find(call);
		if (it == countdown_.end() || --it->second > 0)
			return false;
		countdown_.erase(it);
		errno = ENOMEM;
		return true;
	}

private:
	std::map<Call, int> countdown_;
};

class FakeDataplane final : public xwg::DataplaneInterface, public Faults {
public:
	FakeDataplane() : slots(XWG_MAX_KEYPAIRS), peers(XWG_MAX_PEERS), endpoints(XWG_MAX_PEERS),
			  stats(XWG_MAX_PEERS)
	{
		cfg.rekey_timeout_ns = 5'000'000'000ULL;
	}

	std::optional<xwg_config> config() const override { return cfg; }
	bool set_config(const xwg_config &c) override
	{
		if (hit(Call::set_config))
			return false;
		cfg = c;
		return true;
	}
	bool set_peer(std::uint32_t id, const xwg_peer &p) override
	{
		if (hit(Call::set_peer))
			return false;
		peers.at(id) = p;
		return true;
	}
	bool clear_peer(std::uint32_t id) override
	{
		if (hit(Call::clear_peer))
			return false;
		peers.at(id) = {};
		endpoints.at(id).ep = {};
		endpoints.at(id).generation++;
		stats.at(id) = {};
		return true;
	}
	bool set_peer_current(std::uint32_t id, std::uint32_t local_index) override
	{
		peers.at(id).current_index = local_index;
		return true;
	}
	bool set_peer_flow_ports(std::uint32_t id, std::uint32_t flow_ports) override
	{
		peers.at(id).flow_ports = flow_ports;
		return true;
	}
	xwg::PeerStats peer_stats(std::uint32_t id) const override { return stats.at(id); }
	bool reset_peer_stats(std::uint32_t id) override
	{
		if (hit(Call::reset_peer_stats))
			return false;
		stats.at(id) = {};
		return true;
	}
	std::vector<xwg::PeerStats> peer_stats_range(std::uint32_t first,
						     std::uint32_t count) const override
	{
		return {stats.begin() + first, stats.begin() + first + count};
	}

	std::optional<xwg::EndpointState> endpoint(std::uint32_t id) const override
	{
		return endpoints.at(id);
	}
	std::optional<std::uint32_t> set_endpoint(std::uint32_t id, const xwg_endpoint &ep) override
	{
		if (hit(Call::set_endpoint))
			return std::nullopt;
		endpoints.at(id).ep = ep;
		return ++endpoints.at(id).generation;
	}
	bool set_endpoint_route(std::uint32_t id, std::uint32_t generation,
				const xwg_endpoint &ep) override
	{
		auto &e = endpoints.at(id);
		if (e.generation != generation)
			return false;
		e.ep.ifindex = ep.ifindex;
		e.ep.src = ep.src;
		e.ep.nexthop = ep.nexthop;
		e.ep.path_mtu = ep.path_mtu;
		return true;
	}
	// What xwg_rx does when an authenticated packet comes from a new address.
	void roam(std::uint32_t id, const xwg_endpoint &ep)
	{
		auto &e = endpoints.at(id);
		e.ep = ep;
		e.ep.nexthop = {};
		e.ep.path_mtu = 0;
		e.generation++;
	}

	bool install_keypair(std::uint32_t local_index, std::uint32_t slot,
			     const xwg_keypair &kp) override
	{
		if (slot >= slots.size() || slots[slot].state != XWG_KEYPAIR_UNUSED ||
		    keypairs.count(local_index)) {
			errno = EEXIST;
			return false;
		}
		slots[slot] = {0, XWG_KEYPAIR_LIVE, local_index};
		keypairs[local_index] = kp;
		installs.push_back(slot);
		return true;
	}
	void retire_keypair(std::uint32_t slot) override
	{
		slots.at(slot).state = XWG_KEYPAIR_RETIRED;
		retired_at_grace[slot] = grace_periods;
	}
	bool grace_period() override
	{
		grace_periods++;
		return true;
	}
	bool wipe_keypair(std::uint32_t local_index, std::uint32_t slot) override
	{
		// Wiping needs a grace period after the retirement: a program may be using it.
		if (slots.at(slot).state != XWG_KEYPAIR_RETIRED ||
		    grace_periods <= retired_at_grace[slot]) {
			premature_wipes++;
			return false;
		}
		keypairs.erase(local_index);
		slots[slot] = {};
		wiped.push_back(local_index);
		return true;
	}
	std::uint64_t take_send_counter(std::uint32_t slot) override
	{
		return slots.at(slot).send_counter++;
	}

	bool set_allowed_ip(const std::uint8_t *addr, std::size_t len, std::uint8_t plen,
			    std::uint32_t peer_id) override
	{
		if (hit(Call::set_allowed_ip))
			return false;
		allowed[{std::vector<std::uint8_t>(addr, addr + len), plen}] = peer_id;
		return true;
	}
	bool delete_allowed_ip(const std::uint8_t *addr, std::size_t len, std::uint8_t plen) override
	{
		if (hit(Call::delete_allowed_ip))
			return false;
		if (allowed.erase({std::vector<std::uint8_t>(addr, addr + len), plen}) > 0)
			return true;
		errno = ENOENT;
		return false;
	}
	void count_drop(xwg_drop_reason reason) override { drops[reason]++; }

	// The keypair a peer sends with now (0: none) and whether the data plane may use it.
	bool live(std::uint32_t local_index) const
	{
		auto it = keypairs.find(local_index);
		return it != keypairs.end() &&
		       slots.at(it->second.counter_slot).state == XWG_KEYPAIR_LIVE &&
		       slots.at(it->second.counter_slot).local_index == local_index;
	}

	xwg_config cfg{};
	std::vector<xwg_keypair_slot> slots;
	std::vector<xwg_peer> peers;
	std::vector<xwg::EndpointState> endpoints;
	std::vector<xwg::PeerStats> stats;
	std::map<std::uint32_t, xwg_keypair> keypairs;
	std::map<std::pair<std::vector<std::uint8_t>, std::uint8_t>, std::uint32_t> allowed;
	std::map<std::uint32_t, std::uint64_t> retired_at_grace;
	std::map<int, std::uint64_t> drops;
	std::vector<std::uint32_t> installs, wiped;
	std::uint64_t grace_periods = 0, premature_wipes = 0;
};

// The kernel's routes through the tunnel, for the device's RouteHook. Adds fail as
// @faults says (Call::route_add).
class FakeRoutes {
public:
	explicit FakeRoutes(Faults &faults) : faults_(faults) {}
	xwg::RouteHook hook()
	{
		return [this](const xwg::Cidr &prefix, bool add) {
			if (!add) {
				routes.erase(prefix);
				return;
			}
			if (faults_.hit(Call::route_add))
				throw std::runtime_error("adding route " + prefix.to_string() +
							 ": injected failure");
			routes.insert(prefix);
		};
	}

	std::set<xwg::Cidr> routes;

private:
	Faults &faults_;
};

class FakeNetwork final : public xwg::Network {
public:
	using Deliver = std::function<void(const xwg::Endpoint &to, std::vector<std::uint8_t> data)>;

	explicit FakeNetwork(xwg::Endpoint self) : self_(std::move(self)) {}
	void bind(std::uint16_t port, std::uint32_t mark) override
	{
		if (port && port == busy_port)
			throw std::runtime_error("binding UDP port " + std::to_string(port) +
						 ": Address already in use");
		bound_ = true;
		fwmark = mark;
		port_ = port ? port : self_.port;
	}
	bool bound() const override { return bound_; }
	std::uint16_t port() const override { return port_; }
	void set_fwmark(std::uint32_t mark) override { fwmark = mark; }
	bool send(const xwg::Endpoint &to, std::span<const std::uint8_t> data) override
	{
		sent.push_back({to, {data.begin(), data.end()}});
		if (deliver)
			deliver(to, {data.begin(), data.end()});
		return true;
	}
	std::optional<xwg::Route> route(const xwg::IpAddr &to, unsigned ifindex) override
	{
		xwg::Route r;
		r.ifindex = ifindex ? ifindex : 7;
		r.nexthop = to;
		r.mtu = 1500;
		return r;
	}

	const xwg::Endpoint &self() const { return self_; }
	struct Sent {
		xwg::Endpoint to;
		std::vector<std::uint8_t> data;
	};
	std::vector<Sent> sent;
	Deliver deliver;
	std::uint32_t fwmark = 0;
	std::uint16_t busy_port = 0; // bind() refuses it

private:
	xwg::Endpoint self_;
	bool bound_ = false;
	std::uint16_t port_ = 0;
};

} // namespace xwgtest
