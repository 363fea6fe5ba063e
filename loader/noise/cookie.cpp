// noise/cookie.cpp — mac1/mac2, the rotating cookie secret, cookie replies, load policy.
#include "loader/noise/cookie.h"

#include "loader/types/protocol_times.h"

#include <sodium.h>

#include <cstring>
#include <endian.h>

namespace xwg::noise {

namespace {

constexpr std::uint64_t NSEC_PER_SEC = 1000000000ULL;
constexpr std::size_t MACS_LEN = sizeof(xwg_msg_macs);

void derive_key(std::uint8_t (&out)[HASH_LEN], const char (&label)[9], const PublicKey &pub)
{
	hash(out, {Bytes(reinterpret_cast<const std::uint8_t *>(label), 8), pub.bytes});
}

// mac1 covers everything before it, mac2 everything before mac2.
void mac(std::uint8_t *out, const std::uint8_t *key, std::size_t key_len, Bytes message,
	 std::size_t covered)
{
	keyed_hash(std::span<std::uint8_t>(out, XWG_COOKIE_LEN), Bytes(key, key_len),
		   message.first(covered));
}

} // namespace

const char *to_string(MacCheck c)
{
	switch (c) {
	case MacCheck::valid_mac1:
		return "mac1 valid";
	case MacCheck::valid_cookie:
		return "mac1 and mac2 valid";
	case MacCheck::bad_mac1:
		return "mac1 invalid";
	case MacCheck::bad_mac2:
		return "under load and mac2 missing or invalid";
	case MacCheck::wrong_length:
		return "message too short for MACs";
	}
	return "unknown";
}

const char *to_string(CookieError e)
{
	switch (e) {
	case CookieError::ok:
		return "ok";
	case CookieError::wrong_length:
		return "cookie reply has the wrong length";
	case CookieError::wrong_type:
		return "not a cookie reply";
	case CookieError::no_mac1_sent:
		return "cookie reply without a handshake message to answer";
	case CookieError::decrypt_failed:
		return "cookie reply does not decrypt";
	}
	return "unknown";
}

CookieChecker::CookieChecker(const PublicKey &local_public, std::uint64_t now_ns)
{
	derive_key(mac1_key_, "mac1----", local_public);
	derive_key(cookie_key_, "cookie--", local_public);
	randombytes_buf(secret_, sizeof(secret_));
	secret_birth_ns_ = now_ns;
}

CookieChecker::~CookieChecker()
{
	sodium_memzero(secret_, sizeof(secret_));
	sodium_memzero(cookie_key_, sizeof(cookie_key_));
	sodium_memzero(mac1_key_, sizeof(mac1_key_));
}

Cookie CookieChecker::cookie_for(Bytes source, std::uint64_t now_ns)
{
	// The secret changes every COOKIE_SECRET_MAX_AGE; old cookies die with it.
	if (now_ns - secret_birth_ns_ >= protocol::to_ns(protocol::cookie_secret_max_age)) {
		randombytes_buf(secret_, sizeof(secret_));
		secret_birth_ns_ = now_ns;
	}
	Cookie c;
	keyed_hash(c, Bytes(secret_, sizeof(secret_)), source);
	return c;
}

MacCheck CookieChecker::validate(Bytes message, Bytes source, bool check_cookie,
				 std::uint64_t now_ns)
{
	if (message.size() < MACS_LEN)
		return MacCheck::wrong_length;
	const std::uint8_t *mac1 = message.data() + message.size() - MACS_LEN;
	const std::uint8_t *mac2 = mac1 + XWG_COOKIE_LEN;
	std::uint8_t want[XWG_COOKIE_LEN];

	mac(want, mac1_key_, sizeof(mac1_key_), message, message.size() - MACS_LEN);
	if (sodium_memcmp(want, mac1, XWG_COOKIE_LEN) != 0)
		return MacCheck::bad_mac1;
	if (!check_cookie)
		return MacCheck::valid_mac1;

	Cookie c = cookie_for(source, now_ns);
	mac(want, c.data(), c.size(), message, message.size() - XWG_COOKIE_LEN);
	sodium_memzero(c.data(), c.size());
	if (sodium_memcmp(want, mac2, XWG_COOKIE_LEN) != 0)
		return MacCheck::bad_mac2;
	return MacCheck::valid_cookie;
}

void CookieChecker::create_reply(xwg_msg_cookie &out, Bytes message, std::uint32_t receiver_index,
				 Bytes source, std::uint64_t now_ns)
{
	const std::uint8_t *mac1 = message.data() + message.size() - MACS_LEN;
	Cookie c = cookie_for(source, now_ns);

	out.header.type = htole32(XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_COOKIE));
	out.receiver_index = htole32(receiver_index);
	randombytes_buf(out.nonce, sizeof(out.nonce));
	// The message's mac1 is the associated data: the reply answers that message only.
	crypto_aead_xchacha20poly1305_ietf_encrypt(out.encrypted_cookie, nullptr, c.data(),
						   c.size(), mac1, XWG_COOKIE_LEN, nullptr,
						   out.nonce, cookie_key_);
	sodium_memzero(c.data(), c.size());
}

CookieMaker::CookieMaker(const PublicKey &remote_public)
{
	derive_key(mac1_key_, "mac1----", remote_public);
	derive_key(cookie_key_, "cookie--", remote_public);
}

CookieMaker::~CookieMaker()
{
	sodium_memzero(cookie_.data(), cookie_.size());
	sodium_memzero(cookie_key_, sizeof(cookie_key_));
	sodium_memzero(mac1_key_, sizeof(mac1_key_));
}

bool CookieMaker::has_fresh_cookie(std::uint64_t now_ns) const
{
	return have_cookie_ &&
	       now_ns - cookie_birth_ns_ < protocol::to_ns(protocol::cookie_secret_max_age -
							   protocol::cookie_secret_latency);
}

void CookieMaker::add_macs(std::span<std::uint8_t> message, std::uint64_t now_ns)
{
	std::uint8_t *mac1 = message.data() + message.size() - MACS_LEN;
	std::uint8_t *mac2 = mac1 + XWG_COOKIE_LEN;

	mac(mac1, mac1_key_, sizeof(mac1_key_), message, message.size() - MACS_LEN);
	std::memcpy(last_mac1_, mac1, XWG_COOKIE_LEN);
	have_last_mac1_ = true;

	if (has_fresh_cookie(now_ns))
		mac(mac2, cookie_.data(), cookie_.size(), message, message.size() - XWG_COOKIE_LEN);
	else
		std::memset(mac2, 0, XWG_COOKIE_LEN);
}

CookieError CookieMaker::consume_reply(Bytes packet, std::uint64_t now_ns)
{
	if (packet.size() != sizeof(xwg_msg_cookie))
		return CookieError::wrong_length;
	xwg_msg_cookie msg;
	std::memcpy(&msg, packet.data(), sizeof(msg));
	if (le32toh(msg.header.type) != XWG_MSG_HANDSHAKE_COOKIE)
		return CookieError::wrong_type;
	if (!have_last_mac1_)
		return CookieError::no_mac1_sent;

	Cookie c;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(c.data(), nullptr, nullptr,
						       msg.encrypted_cookie,
						       sizeof(msg.encrypted_cookie), last_mac1_,
						       XWG_COOKIE_LEN, msg.nonce, cookie_key_) != 0)
		return CookieError::decrypt_failed;
	cookie_ = c;
	sodium_memzero(c.data(), c.size());
	cookie_birth_ns_ = now_ns;
	have_cookie_ = true;
	// One reply per message: a second copy of it must not refresh the cookie.
	have_last_mac1_ = false;
	return CookieError::ok;
}

bool LoadMonitor::under_load(std::size_t queue_depth, std::uint64_t now_ns)
{
	if (now_ns - window_start_ns_ >= NSEC_PER_SEC) {
		window_start_ns_ = now_ns;
		window_count_ = 0;
	}
	++window_count_;
	bool busy = queue_depth >= policy_.queue_threshold ||
		    (policy_.rate_threshold && window_count_ > policy_.rate_threshold);
	if (busy) {
		last_under_load_ns_ = now_ns;
		ever_ = true;
	}
	return ever_ && now_ns - last_under_load_ns_ < policy_.hold_ns;
}

} // namespace xwg::noise
