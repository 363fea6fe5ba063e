// control/uapi_protocol.h — WireGuard's cross-platform configuration protocol
// (https://www.wireguard.com/xplatform/), the text that `wg` exchanges with
// /var/run/wireguard/IFNAME.sock, without the socket:
//   - uapi_frame() finds one complete request in the bytes read so far;
//   - uapi_get_response() answers "get=1" from the model plus runtime numbers;
//   - uapi_parse_set() validates a whole "set=1" request into a UapiSetRequest, and
//     uapi_apply_set() applies it to a copy of the model and says what changed.
// A set is atomic: parse (which may fail) touches nothing; apply cannot fail, and the
// caller swaps the new model in only after its own work (binding the port, writing maps)
// succeeded, else it answers uapi_errno_response() and keeps the old model.
//
// Semantics follow wireguard-go's device/uapi.go: same keys, same order rules (device
// keys first, then one block per public_key), same error codes (ipc/uapi_unix.go).
#pragma once

#include "loader/control/device_config.h"

#include <cerrno>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xwg
{

// Negative errnos, sent as "errno=N" after a failed set (wireguard-go's ipc constants).
enum uapi_error_code : int {
	UAPI_ERROR_IO = -EIO,
	UAPI_ERROR_PROTOCOL = -EPROTO,	      // a line that is not key=value
	UAPI_ERROR_INVALID = -EINVAL,	      // unknown key, bad value, bad operation
	UAPI_ERROR_PORT_IN_USE = -EADDRINUSE, // the daemon's bind failed
	UAPI_ERROR_UNKNOWN = -55,
};

class UapiError : public std::runtime_error
{
      public:
	UapiError(int code, const std::string &message) : std::runtime_error(message), code_(code)
	{
	}
	int code() const { return code_; }

      private:
	int code_;
};

// ---- framing --------------------------------------------------------------------------

enum class UapiOp { get, set };

struct UapiFrame {
	enum class Status { incomplete, complete, invalid };
	Status status = Status::incomplete;
	UapiOp op = UapiOp::get;
	std::string_view body;	  // set: the lines after "set=1\n", each ending in '\n'
	std::size_t consumed = 0; // bytes of buffer this request used, when complete
};

// Looks at the start of buffer: "get=1\n\n" or "set=1\n" ... "\n\n" is complete;
// a prefix of either is incomplete; anything else is invalid (wg-go closes the
// connection for an unknown operation, and answers EINVAL for "get=1\n" + junk).
// body points into buffer.
UapiFrame uapi_frame(std::string_view buffer);

// ---- get ------------------------------------------------------------------------------

// What the daemon knows about a peer beyond its configuration.
struct PeerRuntime {
	std::int64_t last_handshake_sec = 0; // CLOCK_REALTIME of the last handshake, 0: never
	std::int64_t last_handshake_nsec = 0;
	std::uint64_t rx_bytes = 0;
	std::uint64_t tx_bytes = 0;
	std::optional<Endpoint> endpoint; // learned by roaming; overrides the configured one
};
using PeerRuntimeLookup = std::function<PeerRuntime(const PublicKey &public_key)>;

// The full answer to "get=1", ending in "errno=0\n\n". listen_port and fwmark are left
// out when zero and private_key when unset, as wireguard-go does. runtime may be empty
// (all zero).
std::string uapi_get_response(const DeviceConfig &config, const PeerRuntimeLookup &runtime = {});

// ---- set ------------------------------------------------------------------------------

struct UapiPeerChange {
	PublicKey public_key;
	bool remove = false;
	bool update_only = false;		   // do nothing if the peer does not exist yet
	std::optional<PresharedKey> preshared_key; // all-zero: remove the preshared key
	std::optional<Endpoint> endpoint;
	std::optional<std::uint16_t> persistent_keepalive;
	std::optional<std::uint16_t> flow_ports; // xwg_flow_ports: xwg's FlowPorts
	bool replace_allowed_ips = false; // drop the old ones before adding allowed_ips
	std::vector<Cidr> allowed_ips;	  // canonical; each moves here from any other peer

	bool operator==(const UapiPeerChange &) const = default;
};

struct UapiSetRequest {
	std::optional<PrivateKey> private_key; // all-zero: remove the private key
	std::optional<std::uint16_t> listen_port;
	std::optional<std::uint32_t> fwmark;
	bool replace_peers = false;
	std::vector<UapiPeerChange> peers; // in request order; a key may appear twice

	bool operator==(const UapiSetRequest &) const = default;
};

// Parses the body of a set request (the lines after "set=1\n"; it stops at the first
// empty line or the end). Throws UapiError with the code wireguard-go would send.
UapiSetRequest uapi_parse_set(std::string_view body);

struct UapiApplied {
	DeviceConfig config; // the new model, to swap in
	ConfigDelta delta;   // what differs from the old one
};

// Applies a parsed request to a copy of current. Peers whose public key is the
// interface's own are ignored (and removed when a new private key makes them so).
UapiApplied uapi_apply_set(const DeviceConfig &current, const UapiSetRequest &request);

// "errno=N\n\n": the status line after a set (and after a failed get).
std::string uapi_errno_response(int code);

} // namespace xwg
