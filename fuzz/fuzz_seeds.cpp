// fuzz_seeds.cpp — writes the seed corpus of the libFuzzer targets: wg-quick files, UAPI
// requests, handshake messages, cookie replies and keys, all made with the fixed keys of
// fuzz_util.h and handshake_fixture.h, so that every seed is valid (or exactly one step
// from valid) for the target that reads it. Run it to regenerate fuzz/corpus:
//   build/libfuzzer/fuzz/fuzz_seeds fuzz/corpus
#include "handshake_fixture.h"

#include <endian.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace xwgfuzz;
namespace fs = std::filesystem;

namespace {

fs::path root;

void write(const std::string &target, const std::string &name, std::string_view bytes)
{
	fs::create_directories(root / target);
	std::ofstream out(root / target / name, std::ios::binary | std::ios::trunc);
	out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
	if (!out)
		throw std::runtime_error("cannot write " + (root / target / name).string());
}

// A step selector byte followed by a message.
template <class T> std::string op(std::uint8_t selector, const T &msg, std::size_t len = sizeof(T))
{
	return std::string(1, static_cast<char>(selector)) +
	       std::string(reinterpret_cast<const char *>(&msg), len);
}

std::string b64(std::uint8_t seed)
{
	return xwg::to_base64(xwg::public_key_of(fixed_private_key(seed)));
}

std::string hex(std::uint8_t seed)
{
	return xwg::to_hex(xwg::public_key_of(fixed_private_key(seed)));
}

// @text with its keys filled in: "{priv}" is private key 1 in base64, "{N}" public key N in
// base64, "{hN}" public key N in hex, "{pN}" private key N in hex (the UAPI's spelling).
std::string with_keys(std::string text)
{
	for (std::size_t at; (at = text.find('{')) != std::string::npos;) {
		const std::size_t end = text.find('}', at);
		const std::string name = text.substr(at + 1, end - at - 1);
		const auto n = [&](std::size_t skip) {
			return static_cast<std::uint8_t>(std::stoi(name.substr(skip)));
		};
		std::string key = name == "priv"   ? xwg::to_base64(fixed_private_key(1))
				  : name[0] == 'h' ? hex(n(1))
				  : name[0] == 'p' ? xwg::to_hex(fixed_private_key(n(1)))
						   : b64(n(0));
		text.replace(at, end + 1 - at, key);
	}
	return text;
}

void config_seeds()
{
	write("config_fuzz", "minimal.conf", with_keys(R"(# the least a file can say
[Interface]
PrivateKey = {priv}
)"));
	write("config_fuzz", "full.conf", with_keys(R"(# everything xwg reads
[Interface]
PrivateKey = {priv}
ListenPort = 51820
FwMark = 0x10
Address = 192.0.2.1/24, 2001:db8::1/64
MTU = 1420
Table = off
Underlay = eth0, eth1
ReceivePath = xdp
DNS = 192.0.2.53, 2001:db8::53, example.com
PreUp = echo %i, up
PostUp = true
PostUp =
PreDown = nft delete table inet t
PostDown = false
SaveConfig = true

[Peer]
PublicKey = {2}
PresharedKey = {9}
AllowedIPs = 198.51.100.0/24, 2001:db8:1::/48
Endpoint = 203.0.113.2:51820
PersistentKeepalive = 25
[Peer]
PublicKey = {3}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = [2001:db8:ff::3]:51821
)"));
	write("config_fuzz", "hostname.conf", with_keys(R"(# an endpoint by name (from /etc/hosts)
[Interface]
PrivateKey = {priv}
[Peer]
PublicKey = {2}
Endpoint = localhost:51820
AllowedIPs = 192.0.2.2
)"));
	std::string crlf = with_keys(R"(# CRLF line ends, lowercase keys, odd spacing
[interface]
privatekey={priv}   # trailing comment
table = 1234
mtu = 1280
receivepath = TC
[peer]
publickey = {4}
allowedips = 198.18.0.0/15,198.19.0.0/16
persistentkeepalive = off
)");
	for (std::size_t at = 0; (at = crlf.find('\n', at)) != std::string::npos; at += 2)
		crlf.insert(at, "\r");
	write("config_fuzz", "crlf_lowercase.conf", crlf);
	write("config_fuzz", "duplicate_allowed_ip.conf",
	      with_keys(R"(# refused: a prefix on two peers
[Interface]
PrivateKey = {priv}
[Peer]
PublicKey = {2}
AllowedIPs = 192.0.2.0/24
[Peer]
PublicKey = {3}
AllowedIPs = 192.0.2.7/24
)"));
}

void uapi_seeds()
{
	write("uapi_fuzz", "get", "get=1\n\n");
	write("uapi_fuzz", "set_device", with_keys(R"(set=1
private_key={p5}
listen_port=51821
fwmark=0

)"));
	write("uapi_fuzz", "set_new_peer", with_keys(R"(set=1
public_key={h6}
preshared_key={h7}
endpoint=[2001:db8::6]:51820
persistent_keepalive_interval=25
replace_allowed_ips=true
allowed_ip=192.0.2.0/24
allowed_ip=2001:db8:6::/48
protocol_version=1

)"));
	write("uapi_fuzz", "set_move_allowed_ip", with_keys(R"(set=1
public_key={h2}
update_only=true
allowed_ip=198.51.100.3/32
public_key={h4}
remove=true

)"));
	write("uapi_fuzz", "set_replace_all", with_keys(R"(set=1
replace_peers=true
public_key={h3}
endpoint=192.0.2.3:1

)"));
	write("uapi_fuzz", "set_own_key", with_keys(R"(set=1
private_key={p2}
public_key={h2}

)"));
	write("uapi_fuzz", "bare_body", with_keys(R"(public_key={h3}
preshared_key=0000000000000000000000000000000000000000000000000000000000000000
)"));
}

void noise_seeds()
{
	const HandshakeFixture &fx = HandshakeFixture::get();
	xwg::noise::CookieMaker maker(fx.responder.public_key);
	xwg_msg_initiation init;
	auto ini = fx.initiate(init);
	maker.add_macs({reinterpret_cast<std::uint8_t *>(&init), sizeof(init)}, fx.kNow);
	auto hs = fx.responder_side();
	xwg_msg_response resp;
	if (fx.respond(*hs, bytes_of(init), resp) != HandshakeError::ok)
		throw std::runtime_error("the fixture's handshake fails");

	write("handshake_fuzz", "initiation", op(0, init));
	write("handshake_fuzz", "response", op(1, resp));
	write("handshake_fuzz", "response_truncated", op(1, resp, sizeof(resp) - 1));
	write("handshake_fuzz", "initiation_as_response", op(1, init));
	xwg_msg_initiation other = init;
	other.sender_index = htole32(0xdeadbeef);
	write("handshake_fuzz", "initiation_other_index", op(0, other));

	xwg::noise::CookieChecker checker(fx.responder.public_key, fx.kNow);
	const std::uint8_t source[] = {198, 51, 100, 7, 0xca, 0x6c};
	xwg_msg_cookie reply;
	checker.create_reply(reply, bytes_of(init), fx.kInitiatorIndex, source, fx.kNow);
	write("cookie_fuzz", "validate_initiation", op(0, init));
	write("cookie_fuzz", "validate_under_load", op(1, init));
	write("cookie_fuzz", "reply", op(2, reply));
	write("cookie_fuzz", "exchange_initiation", op(3, init));
	write("cookie_fuzz", "exchange_response", op(3, resp));
}

void key_seeds()
{
	write("keys_fuzz", "base64", b64(1));
	write("keys_fuzz", "hex", hex(1));
	std::string upper = hex(2);
	for (char &c : upper)
		c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	write("keys_fuzz", "hex_upper", upper);
	write("keys_fuzz", "base64_31_bytes", b64(3).substr(0, 40) + "AA==");
	// Found by keys_fuzz: libsodium 1.0.18 decodes bytes >= 0x80 as base64 digits.
	write("keys_fuzz", "base64_high_bytes",
	      b64(4).substr(0, 30) + "\x9f\xb4" + b64(4).substr(32));
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	config_seeds();
	uapi_seeds();
	noise_seeds();
	key_seeds();
	return 0;
}
