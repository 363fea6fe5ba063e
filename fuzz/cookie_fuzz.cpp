// cookie_fuzz.cpp — libFuzzer target for the MACs and cookie replies (loader/noise/cookie.h).
// The first input byte picks the step, the rest is the message:
//   0: CookieChecker::validate, mac2 not asked for;  1: validate under load;
//   2: CookieMaker::consume_reply, the maker having sent the fixture's initiation (seeds
//      hold a reply to it);
//   3: the whole exchange around the message as a handshake message of any length.
// Properties: validate's verdicts fit the message (too short, bad mac1, ...); a reply is
// accepted once only and then gives the maker a cookie; and in the exchange, what the
// maker MACs the checker accepts, with mac2 exactly when the maker holds the checker's
// cookie for this source, and a changed bit anywhere, or another source, is refused.
#include "handshake_fixture.h"

#include <cstdint>
#include <vector>

using namespace xwgfuzz;
using xwg::noise::CookieChecker;
using xwg::noise::CookieError;
using xwg::noise::CookieMaker;
using xwg::noise::MacCheck;

namespace {

constexpr std::size_t MACS_LEN = sizeof(xwg_msg_macs);
const std::uint8_t SOURCE[] = {198, 51, 100, 7, 0xca, 0x6c}; // 198.51.100.7:51820
const std::uint8_t ELSEWHERE[] = {198, 51, 100, 8, 0xca, 0x6c};

void validate(xwg::noise::Bytes message, bool under_load)
{
	const HandshakeFixture &fx = HandshakeFixture::get();
	CookieChecker checker(fx.responder.public_key, fx.kNow);
	MacCheck c = checker.validate(message, SOURCE, under_load, fx.kNow);
	if (message.size() < MACS_LEN)
		FUZZ_CHECK(c == MacCheck::wrong_length, "shorter than the MACs: wrong_length");
	else if (under_load)
		// Without the checker's fresh random secret nobody can have made mac2.
		FUZZ_CHECK(c == MacCheck::bad_mac1 || c == MacCheck::bad_mac2,
			   "under load, no valid cookie out of nowhere");
	else
		FUZZ_CHECK(c == MacCheck::bad_mac1 || c == MacCheck::valid_mac1,
			   "mac2 is looked at only under load");
}

void reply(xwg::noise::Bytes packet)
{
	const HandshakeFixture &fx = HandshakeFixture::get();
	static const xwg_msg_initiation sent = [&fx] {
		xwg_msg_initiation m;
		fx.initiate(m);
		return m;
	}();
	xwg_msg_initiation init = sent;
	CookieMaker maker(fx.responder.public_key);
	FUZZ_CHECK(maker.consume_reply(packet, fx.kNow) != CookieError::ok,
		   "no reply is accepted before a message was sent");
	maker.add_macs({reinterpret_cast<std::uint8_t *>(&init), sizeof(init)}, fx.kNow);
	CookieError e = maker.consume_reply(packet, fx.kNow);
	if (e != CookieError::ok) {
		FUZZ_CHECK(!maker.has_fresh_cookie(fx.kNow), "a refused reply gives no cookie");
		return;
	}
	FUZZ_CHECK(packet.size() == sizeof(xwg_msg_cookie), "only 64-byte replies pass");
	FUZZ_CHECK(maker.has_fresh_cookie(fx.kNow), "an accepted reply gives a cookie");
	FUZZ_CHECK(maker.consume_reply(packet, fx.kNow) == CookieError::no_mac1_sent,
		   "a reply is accepted once");
}

void exchange(xwg::noise::Bytes input)
{
	if (input.size() < MACS_LEN)
		return;
	const HandshakeFixture &fx = HandshakeFixture::get();
	const std::uint64_t now = fx.kNow;
	std::vector<std::uint8_t> msg(input.begin(), input.end());
	CookieChecker checker(fx.responder.public_key, now);
	CookieMaker maker(fx.responder.public_key);

	maker.add_macs(msg, now);
	FUZZ_CHECK(checker.validate(msg, SOURCE, false, now) == MacCheck::valid_mac1,
		   "what the maker MACs has a valid mac1");
	FUZZ_CHECK(checker.validate(msg, SOURCE, true, now) == MacCheck::bad_mac2,
		   "without a cookie, mac2 is refused under load");

	xwg_msg_cookie r;
	checker.create_reply(r, msg, fx.kInitiatorIndex, SOURCE, now);
	FUZZ_CHECK(maker.consume_reply(bytes_of(r), now) == CookieError::ok,
		   "the maker takes the checker's reply");
	FUZZ_CHECK(maker.consume_reply(bytes_of(r), now) == CookieError::no_mac1_sent,
		   "and takes it once");

	maker.add_macs(msg, now);
	FUZZ_CHECK(checker.validate(msg, SOURCE, true, now) == MacCheck::valid_cookie,
		   "with the cookie, mac2 is valid under load");
	FUZZ_CHECK(checker.validate(msg, ELSEWHERE, true, now) == MacCheck::bad_mac2,
		   "a cookie is for one source only");

	// One changed bit: in what mac1 covers, then in mac2.
	std::size_t bit = 0;
	for (std::uint8_t b : input)
		bit = bit * 131 + b;
	bit %= 8 * msg.size();
	msg[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
	MacCheck flipped = checker.validate(msg, SOURCE, true, now);
	if (bit / 8 < msg.size() - MACS_LEN + XWG_COOKIE_LEN)
		FUZZ_CHECK(flipped == MacCheck::bad_mac1, "a changed bit fails mac1");
	else
		FUZZ_CHECK(flipped == MacCheck::bad_mac2, "a changed bit in mac2 fails mac2");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	if (size == 0)
		return 0;
	xwg::noise::Bytes rest(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
	case 1:
		validate(rest, data[0] % 4 == 1);
		break;
	case 2:
		reply(rest);
		break;
	case 3:
		exchange(rest);
		break;
	}
	return 0;
}
