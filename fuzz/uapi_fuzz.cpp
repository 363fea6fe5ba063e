// uapi_fuzz.cpp — libFuzzer target for the UAPI text protocol (loader/control/uapi_protocol.h):
// the input is what a client wrote to the socket. It is framed (uapi_frame), a set body
// parsed (uapi_parse_set) and applied (uapi_apply_set) to a fixed model with three peers,
// a get answered; the raw input is also parsed as a body on its own.
//
// Properties: parsing fails only with UapiError carrying one of wireguard-go's codes; a
// frame's body and length lie inside the input; the applied model keeps the rules (no
// peer is ourselves, unique peers, canonical allowed IPs that belong to one peer each,
// no all-zero preshared key); an empty delta means an unchanged model; and the model's own
// get response, turned into a set that replaces everything, rebuilds exactly that model.
#include "fuzz_util.h"
#include "loader/control/uapi_protocol.h"

#include <cstdint>
#include <string>

using namespace xwg;

namespace {

PublicKey fixed_public_key(std::uint8_t seed)
{
	return public_key_of(xwgfuzz::fixed_private_key(seed));
}

// The model a request is applied to: our key, a port, a fwmark and three peers
// (xwg/uapi corpus seeds name these keys).
const DeviceConfig &model()
{
	static const DeviceConfig m = [] {
		DeviceConfig c;
		c.iface.private_key = xwgfuzz::fixed_private_key(1);
		c.iface.listen_port = 51820;
		c.iface.fwmark = 7;
		for (std::uint8_t i = 2; i <= 4; i++) {
			PeerConfig p;
			p.public_key = fixed_public_key(i);
			p.add_allowed_ip(*cidr_parse("198.51.100." + std::to_string(i) + "/32"));
			p.add_allowed_ip(*cidr_parse("2001:db8::" + std::to_string(i) + "/128"));
			p.endpoint = endpoint_parse("203.0.113." + std::to_string(i) + ":51820");
			p.persistent_keepalive = i == 2 ? 25 : 0;
			if (i == 3) {
				PresharedKey psk;
				psk.data()[0] = 1;
				p.preshared_key = psk;
			}
			c.peers.push_back(p);
		}
		return c;
	}();
	return m;
}

std::optional<UapiSetRequest> parse(std::string_view body)
{
	try {
		return uapi_parse_set(body);
	} catch (const UapiError &e) {
		FUZZ_CHECK(e.code() == UAPI_ERROR_PROTOCOL || e.code() == UAPI_ERROR_INVALID,
			   "a refused set says EPROTO or EINVAL");
		return std::nullopt;
	}
}

// The set request that makes any model into @c: c's get response without the runtime
// lines, everything replaced, and the defaults get leaves out said explicitly, and
// xwg's FlowPorts, which get leaves out for `wg`'s sake, added per peer.
std::string set_body_of(const DeviceConfig &c)
{
	std::string get = uapi_get_response(c);
	std::string body = "replace_peers=true\n";
	if (!c.iface.private_key)
		body += "private_key=" + std::string(2 * KEY_LEN, '0') + "\n";
	body += "listen_port=0\nfwmark=0\n";
	std::string_view rest = get;
	std::size_t peer = 0;
	while (!rest.empty()) {
		std::size_t nl = rest.find('\n');
		std::string_view line = rest.substr(0, nl);
		rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
		std::string_view key = line.substr(0, line.find('='));
		if (line.empty() || key == "errno" || key.starts_with("last_handshake_time") ||
		    key == "rx_bytes" || key == "tx_bytes")
			continue;
		body.append(line).append("\n");
		if (key == "public_key") {
			body += "replace_allowed_ips=true\n";
			if (peer < c.peers.size())
				body += "xwg_flow_ports=" +
					std::to_string(c.peers[peer++].flow_ports) + "\n";
		}
	}
	return body;
}

void check_apply(const DeviceConfig &current, const UapiSetRequest &req)
{
	UapiApplied applied = uapi_apply_set(current, req);
	xwgfuzz::check_config_rules(applied.config);
	if (const auto &key = applied.config.iface.private_key) {
		const PublicKey own = public_key_of(*key);
		for (const PeerConfig &p : applied.config.peers)
			FUZZ_CHECK(p.public_key != own, "no peer is the interface itself");
	}
	if (applied.delta.empty())
		FUZZ_CHECK(applied.config == current, "an empty delta means nothing changed");

	const std::string get = uapi_get_response(applied.config);
	FUZZ_CHECK(get.ends_with("errno=0\n\n"), "a get response ends in errno=0");
	auto rebuilt_req = parse(set_body_of(applied.config));
	FUZZ_CHECK(rebuilt_req.has_value(), "a model's own get response parses as a set");
	UapiApplied rebuilt = uapi_apply_set(current, *rebuilt_req);
	FUZZ_CHECK(rebuilt.config == applied.config, "get, then set of it, rebuilds the model");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view input(reinterpret_cast<const char *>(data), size);

	UapiFrame f = uapi_frame(input);
	if (f.status == UapiFrame::Status::complete) {
		FUZZ_CHECK(f.consumed > 0 && f.consumed <= input.size(),
			   "a frame lies in the input");
		if (f.op == UapiOp::set) {
			FUZZ_CHECK(f.body.data() >= input.data() &&
					   f.body.data() + f.body.size() <=
						   input.data() + f.consumed,
				   "a set body lies in its frame");
			if (auto req = parse(f.body))
				check_apply(model(), *req);
		} else {
			check_apply(model(), UapiSetRequest{});
		}
	}
	if (auto req = parse(input))
		check_apply(model(), *req);
	return 0;
}
