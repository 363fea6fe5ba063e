// noise/transport.cpp — ChaCha20-Poly1305 (IETF) from libsodium around the type-4 header.
#include "loader/noise/transport.h"

#include "xwg/wire.h"

#include <sodium.h>

#include <cstring>
#include <endian.h>

namespace xwg::noise {

namespace {

void counter_nonce(std::uint8_t (&nonce)[12], std::uint64_t counter)
{
	std::uint64_t le = htole64(counter);
	std::memset(nonce, 0, 4);
	std::memcpy(nonce + 4, &le, sizeof(le));
}

// WireGuard's padding rule, the one definition xwg_tx uses too.
std::size_t padded(std::size_t len, std::size_t mtu)
{
	return xwg_padded_len(static_cast<unsigned>(len), static_cast<unsigned>(mtu));
}

} // namespace

const char *to_string(TransportError e)
{
	switch (e) {
	case TransportError::ok:
		return "ok";
	case TransportError::too_short:
		return "packet shorter than a transport header and tag";
	case TransportError::wrong_type:
		return "packet is not transport data";
	case TransportError::buffer_too_small:
		return "output buffer too small";
	case TransportError::auth_failed:
		return "packet does not authenticate";
	}
	return "unknown";
}

void aead_seal(std::uint8_t *out, const SymmetricKey &key, std::uint64_t counter, Bytes plain,
	       Bytes ad)
{
	std::uint8_t nonce[12];
	counter_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, nullptr, plain.data(), plain.size(),
						  ad.data(), ad.size(), nullptr, nonce, key.data());
}

bool aead_open(std::uint8_t *out, const SymmetricKey &key, std::uint64_t counter, Bytes sealed,
	       Bytes ad)
{
	std::uint8_t nonce[12];
	counter_nonce(nonce, counter);
	return crypto_aead_chacha20poly1305_ietf_decrypt(out, nullptr, nullptr, sealed.data(),
							 sealed.size(), ad.data(), ad.size(), nonce,
							 key.data()) == 0;
}

std::size_t transport_len(std::size_t plain_len, std::size_t mtu)
{
	return sizeof(xwg_msg_data) + padded(plain_len, mtu) + XWG_AEAD_TAG_LEN;
}

std::size_t transport_seal(std::span<std::uint8_t> out, const SymmetricKey &key,
			   std::uint32_t receiver_index, std::uint64_t counter, Bytes plain,
			   std::size_t mtu)
{
	std::size_t body = padded(plain.size(), mtu);
	std::size_t total = sizeof(xwg_msg_data) + body + XWG_AEAD_TAG_LEN;
	if (out.size() < total)
		return 0;

	xwg_msg_data hdr;
	hdr.header.type = htole32(XWG_MSG_HEADER(XWG_MSG_DATA));
	hdr.key_idx = htole32(receiver_index);
	hdr.counter = htole64(counter);
	std::memcpy(out.data(), &hdr, sizeof(hdr));

	// Pad in the output buffer, then seal in place.
	std::uint8_t *p = out.data() + sizeof(hdr);
	if (!plain.empty()) // a keepalive's empty span may be null: no memmove from it
		std::memmove(p, plain.data(), plain.size());
	std::memset(p + plain.size(), 0, body - plain.size());
	aead_seal(p, key, counter, Bytes(p, body), Bytes());
	return total;
}

Opened transport_open(std::span<std::uint8_t> plain, const SymmetricKey &key, Bytes packet)
{
	if (packet.size() < XWG_MSG_DATA_MIN_LEN)
		return {TransportError::too_short, 0, 0, 0};
	xwg_msg_data hdr;
	std::memcpy(&hdr, packet.data(), sizeof(hdr));
	if (le32toh(hdr.header.type) != XWG_MSG_DATA)
		return {TransportError::wrong_type, 0, 0, 0};

	Opened r{TransportError::ok, le32toh(hdr.key_idx), le64toh(hdr.counter), 0};
	std::size_t len = packet.size() - sizeof(hdr) - XWG_AEAD_TAG_LEN;
	if (plain.size() < len) {
		r.error = TransportError::buffer_too_small;
		return r;
	}
	std::uint8_t empty;
	if (!aead_open(len ? plain.data() : &empty, key, r.counter, packet.subspan(sizeof(hdr)),
		       Bytes())) {
		r.error = TransportError::auth_failed;
		return r;
	}
	r.len = len;
	return r;
}

} // namespace xwg::noise
