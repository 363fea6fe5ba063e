// handshake_fuzz.cpp — libFuzzer target for consuming handshake messages
// (loader/noise/handshake.h). The first input byte picks the step, the rest is the packet:
//   even: Handshake::consume_initiation by the fixture's responder (a fresh handshake with
//         the initiator, so the timestamp rule does not depend on earlier inputs);
//   odd:  consume_response by the fixture's initiator, whose initiation is outstanding.
// Properties: a refused message leaves the handshake as it was (fails closed); an
// accepted one can only be the fixture's own message (AEAD: the encrypted parts are its
// bytes exactly, whatever the unauthenticated fields say), is refused when it comes again,
// and completes a session whose keys both sides share.
#include "handshake_fixture.h"

#include <endian.h>

#include <cstddef>
#include <cstdint>

using namespace xwgfuzz;
using xwg::noise::HandshakeState;

namespace {

std::uint32_t le32_at(xwg::noise::Bytes packet, std::size_t off)
{
	std::uint32_t v;
	std::memcpy(&v, packet.data() + off, sizeof(v));
	return le32toh(v);
}

void initiation(xwg::noise::Bytes packet)
{
	const HandshakeFixture &fx = HandshakeFixture::get();
	auto hs = fx.responder_side();
	auto r = Handshake::consume_initiation(fx.responder, packet, fx.lookup(*hs), fx.kNow);
	if (r.error != HandshakeError::ok) {
		FUZZ_CHECK(r.peer == nullptr && hs->state() == HandshakeState::zeroed,
			   "a refused initiation changes nothing");
		return;
	}
	FUZZ_CHECK(packet.size() == sizeof(xwg_msg_initiation), "only 148-byte initiations pass");
	FUZZ_CHECK(r.peer == hs.get() && hs->state() == HandshakeState::consumed_initiation,
		   "an accepted initiation moves the initiator's handshake on");
	const std::uint32_t sender = le32_at(packet, offsetof(xwg_msg_initiation, sender_index));
	FUZZ_CHECK(hs->remote_index() == sender, "the responder answers the sender's index");

	xwg_msg_initiation ours;
	auto ini = fx.initiate(ours);
	const std::size_t sealed = offsetof(xwg_msg_initiation, unencrypted_ephemeral);
	FUZZ_CHECK(std::memcmp(packet.data() + sealed, bytes_of(ours).data() + sealed,
			       offsetof(xwg_msg_initiation, macs) - sealed) == 0,
		   "only the initiator's own initiation decrypts");

	auto again = Handshake::consume_initiation(fx.responder, packet, fx.lookup(*hs), fx.kNow);
	FUZZ_CHECK(again.error == HandshakeError::replayed_timestamp &&
			   hs->state() == HandshakeState::consumed_initiation,
		   "the same initiation is refused the second time");

	xwg_msg_response resp;
	hs->use_ephemeral_once(fixed_private_key(4));
	FUZZ_CHECK(hs->create_response(resp, fx.kResponderIndex) == HandshakeError::ok,
		   "an accepted initiation can be answered");
	resp.receiver_index = htole32(fx.kInitiatorIndex); // the initiator's index, whatever came
	FUZZ_CHECK(ini->consume_response(bytes_of(resp)) == HandshakeError::ok,
		   "the initiator accepts the answer");
	check_session(*ini, *hs);
}

void response(xwg::noise::Bytes packet)
{
	const HandshakeFixture &fx = HandshakeFixture::get();
	xwg_msg_initiation init;
	auto ini = fx.initiate(init);
	HandshakeError err = ini->consume_response(packet);
	if (err != HandshakeError::ok) {
		FUZZ_CHECK(ini->state() == HandshakeState::created_initiation &&
				   ini->local_index() == fx.kInitiatorIndex &&
				   ini->remote_index() == 0,
			   "a refused response changes nothing");
		return;
	}
	FUZZ_CHECK(packet.size() == sizeof(xwg_msg_response), "only 92-byte responses pass");
	FUZZ_CHECK(ini->state() == HandshakeState::consumed_response,
		   "an accepted response completes the handshake");
	FUZZ_CHECK(ini->remote_index() == le32_at(packet, offsetof(xwg_msg_response, sender_index)),
		   "the initiator sends to the responder's index");
	FUZZ_CHECK(ini->consume_response(packet) == HandshakeError::wrong_state,
		   "the same response is refused the second time");

	auto hs = fx.responder_side();
	xwg_msg_response ours;
	FUZZ_CHECK(fx.respond(*hs, bytes_of(init), ours) == HandshakeError::ok,
		   "the responder answers the fixture's initiation");
	const std::size_t sealed = offsetof(xwg_msg_response, unencrypted_ephemeral);
	FUZZ_CHECK(std::memcmp(packet.data() + sealed, bytes_of(ours).data() + sealed,
			       offsetof(xwg_msg_response, macs) - sealed) == 0,
		   "only the responder's own response authenticates");
	// The responder named itself by the packet's sender index, which is not authenticated.
	xwg::noise::Keypair a, b;
	FUZZ_CHECK(ini->begin_session(a, fx.kNow) == HandshakeError::ok &&
			   hs->begin_session(b, fx.kNow) == HandshakeError::ok,
		   "both sides derive a session");
	FUZZ_CHECK(a.sending == b.receiving && a.receiving == b.sending,
		   "both sides of a completed handshake hold the same keys");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	if (size == 0)
		return 0;
	xwg::noise::Bytes packet(data + 1, size - 1);
	if (data[0] & 1)
		response(packet);
	else
		initiation(packet);
	return 0;
}
