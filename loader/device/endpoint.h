// device/endpoint.h — where each peer's packets go (Linux peer.c's endpoint and
// socket.c's route): the address, and the underlay, source address, next hop and path
// MTU the kernel's routes give for it.
//
// The data plane holds the endpoint in a locked slot (include/xwg/maps.h); xwg_rx moves
// the address itself when a peer roams, and tells us (ENDPOINT_CHANGED, resent until it
// arrives). Our writes go through the programs' own code: set() replaces the address,
// refresh() fills in the route for the address of one generation only, so a roam that
// happens meanwhile is never overwritten with an old address.
#pragma once

#include "loader/device/dataplane_interface.h"
#include "loader/device/network.h"
#include "loader/types/ip_prefix.h"

#include <cstdint>
#include <optional>

namespace xwg {

class Endpoints {
public:
	Endpoints(DataplaneInterface &dp, Network &net) : dp_(dp), net_(net) {}

	// A new address for @peer_id (configured, or a handshake's source), with its route;
	// false (errno set) when the data plane refused it.
	bool set(std::uint32_t peer_id, const Endpoint &ep);
	// No address for @peer_id (a peer configured anew without one); false as for set().
	bool clear(std::uint32_t peer_id);
	// Looks the route of the address in the data plane up again and writes it where it
	// changed: after a roam (no next hop yet) and whenever routes or addresses change.
	// Returns that address (nullopt: none).
	std::optional<Endpoint> refresh(std::uint32_t peer_id);

	// The address and port of a data-plane endpoint (an event's, a slot's).
	static Endpoint address_of(const xwg_endpoint &ep);

private:
	DataplaneInterface &dp_;
	Network &net_;
};

} // namespace xwg
