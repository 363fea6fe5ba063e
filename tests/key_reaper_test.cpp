// key_reaper_test.cpp — the key reaper (bpf/lib/key_reaper.h) through the real objects:
// - keypairs 3 x REJECT_AFTER_TIME old are wiped in place and flagged, exactly those, and
//   one that comes of age is wiped within a period; young ones still decrypt and encrypt;
// - both programs refuse a wiped keypair by its age, before they touch its (zero) keys;
// - the daemon's own retirement of a reaped keypair still goes through;
// - without a config (reject_after_time 0) nothing is wiped;
// - the timer outlives the fds that armed it while the maps are pinned, and stops, with
//   its program and maps freed, once the pins go;
// - what a walk costs with 196,608 keypairs (printed; the README quotes it).
#include <catch2/catch.hpp>

#include "bpf_ids.h"
#include "dataplane_lab.h"

#include <bpf/bpf.h>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace xwgtest;

namespace {

constexpr uint64_t kSecond = 1'000'000'000ULL;
constexpr uint64_t kReject = 2 * kSecond;   // a short REJECT_AFTER_TIME
constexpr uint64_t kPeriod = 20'000'000ULL; // the reaper's period in these tests

void set_reject(DataplaneLab &lab, uint64_t reject_ns)
{
	auto cfg = lab.dp.config();
	REQUIRE(cfg);
	cfg->reject_after_time_ns = reject_ns;
	REQUIRE(lab.dp.set_config(*cfg));
}

// A keypair of the lab's peer under @index in @slot, born at @birth_ns.
xwg_keypair make_keypair(uint32_t slot, uint64_t birth_ns, uint8_t key_byte)
{
	xwg_keypair kp{};
	std::memset(kp.recv_key, key_byte, sizeof(kp.recv_key));
	std::memset(kp.send_key, key_byte ^ 0x5a, sizeof(kp.send_key));
	kp.peer_id = DataplaneLab::kPeer;
	kp.remote_index = 0x01020304;
	kp.counter_slot = slot;
	kp.flags = XWG_KEYPAIR_INITIATOR;
	kp.birth_ns = birth_ns;
	return kp;
}

bool all_zero(const uint8_t *p, std::size_t n)
{
	for (std::size_t i = 0; i < n; ++i)
		if (p[i])
			return false;
	return true;
}

bool wiped(const xwg_keypair &kp)
{
	return (kp.flags & XWG_KEYPAIR_WIPED) && all_zero(kp.recv_key, sizeof(kp.recv_key)) &&
	       all_zero(kp.send_key, sizeof(kp.send_key));
}

bool intact(const xwg_keypair &kp, uint8_t key_byte)
{
	return !(kp.flags & XWG_KEYPAIR_WIPED) && kp.recv_key[0] == key_byte &&
	       kp.recv_key[31] == key_byte && kp.send_key[31] == (key_byte ^ 0x5a);
}

// Waits (bounded) until the reaper has completed @n more passes over the slots than @since.
uint64_t wait_passes(const xwg::Dataplane &dp, uint64_t since, uint64_t n,
		     std::chrono::milliseconds bound = std::chrono::milliseconds(5000))
{
	const auto deadline = std::chrono::steady_clock::now() + bound;
	for (;;) {
		auto r = dp.key_reaper();
		REQUIRE(r);
		if (r->passes >= since + n)
			return r->passes;
		if (std::chrono::steady_clock::now() > deadline)
			FAIL("the key reaper made " << r->passes - since << " passes, not " << n);
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
}

} // namespace

TEST_CASE("the key reaper wipes exactly the keypairs 3 x REJECT_AFTER_TIME old")
{
	DataplaneLab lab;
	set_reject(lab, kReject);
	const uint64_t now = boottime_ns();
	// Under the limit by 1.5 s, just over it, far over it.
	const uint64_t under_birth = now - 3 * kReject + 1500'000'000ULL;
	REQUIRE(lab.dp.install_keypair(0x1001, 20, make_keypair(20, under_birth, 0x11)));
	REQUIRE(lab.dp.install_keypair(0x1002, 21, make_keypair(21, now - 3 * kReject - 1, 0x22)));
	REQUIRE(lab.dp.install_keypair(0x1003, 22, make_keypair(22, now - 10 * kReject, 0x33)));
	lab.install_keypair(boottime_ns()); // the lab's own: young, and current

	REQUIRE(lab.dp.arm_key_reaper(kPeriod));
	wait_passes(lab.dp, 0, 3);

	CHECK(wiped(*lab.dp.keypair(0x1002)));
	CHECK(wiped(*lab.dp.keypair(0x1003)));
	CHECK(intact(*lab.dp.keypair(0x1001), 0x11));
	// Wiping touches keys and the flag, nothing the daemon needs to find its way.
	const auto old = *lab.dp.keypair(0x1003);
	CHECK(old.peer_id == DataplaneLab::kPeer);
	CHECK(old.remote_index == 0x01020304);
	CHECK(old.counter_slot == 22);
	CHECK(old.birth_ns == now - 10 * kReject);
	CHECK((old.flags & XWG_KEYPAIR_INITIATOR));
	CHECK(lab.dp.keypair_slot(22)->state == XWG_KEYPAIR_LIVE);
	auto young = lab.dp.keypair(DataplaneLab::kIndex);
	REQUIRE(young);
	CHECK(std::memcmp(young->recv_key, lab.recv_key.data(), 32) == 0);
	CHECK(std::memcmp(young->send_key, lab.send_key.data(), 32) == 0);
	CHECK_FALSE((young->flags & XWG_KEYPAIR_WIPED));
	auto stats = lab.dp.key_reaper();
	REQUIRE(stats);
	CHECK(stats->wiped == 2);
	CHECK(stats->period_ns == kPeriod);
	CHECK(stats->last_pass_visited == 4);

	// The young keypair still decrypts and encrypts.
	const Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 100);
	auto rx = lab.rx(lab.data_frame(lab.peer4, lab.local4, 0, inner));
	CHECK(rx.verdict == XDP_REDIRECT);
	CHECK(Bytes(rx.out.begin() + sizeof(ethhdr), rx.out.end()) == inner);
	const Bytes out_inner = inner_packet(lab.our_in4, lab.peer_in4, 100);
	auto tx = lab.tx(tunnel_frame(out_inner));
	REQUIRE(tx.verdict == TC_ACT_REDIRECT);
	Bytes msg(tx.out.begin() + sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr), tx.out.end());
	Bytes plain;
	CHECK(open_data_message(msg, lab.send_key, plain));

	// The one under the limit is wiped once it comes of age, within a period or so.
	const uint64_t due = under_birth + 3 * kReject;
	while (boottime_ns() < due + 2'000'000'000ULL) {
		auto kp = lab.dp.keypair(0x1001);
		REQUIRE(kp);
		if (kp->flags & XWG_KEYPAIR_WIPED)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
	}
	const uint64_t seen = boottime_ns();
	CHECK(seen >= due);
	CHECK(wiped(*lab.dp.keypair(0x1001)));
	INFO("wiped " << (seen - due) / 1000 << " us after coming of age (period " << kPeriod / 1000
		      << " us)");
	CHECK(seen - due < kPeriod + 500'000'000ULL); // a period, and slack for this host
	CHECK(lab.dp.key_reaper()->wiped == 3);
}

TEST_CASE("both programs refuse a wiped keypair by its age, before touching its keys")
{
	DataplaneLab lab;
	set_reject(lab, kReject);
	lab.install_keypair(boottime_ns() - 3 * kReject - 1);
	REQUIRE(lab.dp.arm_key_reaper(kPeriod));
	wait_passes(lab.dp, 0, 2);
	REQUIRE(wiped(*lab.dp.keypair(DataplaneLab::kIndex)));

	// A packet sealed with the key it now holds (zero) would authenticate if the key
	// were used: the age check comes first.
	Key zero{};
	const Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 60);
	Bytes forged =
		udp_frame(lab.peer4, DataplaneLab::kPeerPort, lab.local4, DataplaneLab::kPort,
			  data_message(DataplaneLab::kIndex, 0, zero, inner));
	CHECK(lab.rx(forged).verdict == XDP_DROP);
	CHECK(lab.drop_count(XWG_DROP_KEYPAIR_EXPIRED) == 1);
	CHECK(lab.drop_count(XWG_DROP_AUTH_FAILED) == 0);
	// TX stages the packet for the daemon instead of sealing it with zero keys.
	CHECK(lab.tx(tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 60))).verdict ==
	      TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_STAGED) == 1);

	// The daemon's retirement still goes through: marked, grace period, deleted.
	lab.remove_keypair();
	CHECK_FALSE(lab.dp.keypair(DataplaneLab::kIndex).has_value());
	CHECK(lab.dp.keypair_slot(DataplaneLab::kSlot)->state == XWG_KEYPAIR_UNUSED);
}

TEST_CASE("the key reaper wipes nothing while the config has no REJECT_AFTER_TIME")
{
	DataplaneLab lab;
	set_reject(lab, 0);
	REQUIRE(lab.dp.install_keypair(0x2001, 30, make_keypair(30, 1, 0x44)));
	REQUIRE(lab.dp.arm_key_reaper(kPeriod));
	const uint64_t passes = wait_passes(lab.dp, 0, 3);
	CHECK(intact(*lab.dp.keypair(0x2001), 0x44));
	CHECK(lab.dp.key_reaper()->last_pass_visited == 0);

	// Armed again (as a daemon taking over would): the timer keeps running, the new
	// period holds, and with a config the old keypair goes.
	set_reject(lab, kReject);
	REQUIRE(lab.dp.arm_key_reaper(2 * kPeriod));
	wait_passes(lab.dp, passes, 2);
	CHECK(lab.dp.key_reaper()->period_ns == 2 * kPeriod);
	CHECK(wiped(*lab.dp.keypair(0x2001)));

	// A period shorter than a nanosecond per chunk is refused.
	CHECK_FALSE(lab.dp.arm_key_reaper(0));
	CHECK(errno == EINVAL);
}

TEST_CASE("the key reaper outlives the fds that armed it, and stops when unpinned")
{
	const std::string pins = "/sys/fs/bpf/xwg-reaper-test-" + std::to_string(getpid());
	struct Cleanup {
		std::string dir;
		~Cleanup()
		{
			std::error_code ec;
			std::filesystem::remove_all(dir, ec);
		}
	} cleanup{pins};

	uint32_t reaper_map = 0, keypairs_map = 0;
	{
		xwg::Dataplane dp{xwg::DataplaneOptions{pins}};
		auto cfg = dp.config();
		REQUIRE(cfg);
		cfg->reject_after_time_ns = kReject;
		REQUIRE(dp.set_config(*cfg));
		REQUIRE(dp.arm_key_reaper(kPeriod));
	} // every fd of the "daemon" closed; the pins remain

	int kfd = bpf_obj_get((pins + "/" XWG_MAP_KEYPAIRS).c_str());
	int sfd = bpf_obj_get((pins + "/" XWG_MAP_KEYPAIR_SLOTS).c_str());
	int rfd = bpf_obj_get((pins + "/" XWG_MAP_KEY_REAPER).c_str());
	REQUIRE(kfd >= 0);
	REQUIRE(sfd >= 0);
	REQUIRE(rfd >= 0);
	keypairs_map = bpf_map_id_of(kfd);
	reaper_map = bpf_map_id_of(rfd);
	const uint32_t prog = bpf_prog_using_map("xwg_key_reaper_arm", reaper_map);
	REQUIRE(prog != 0);
	// A keypair written now, long after the arming program's fd closed, is still reaped.
	// Installed as the daemon does it: the slot first, then the entry.
	uint32_t index = 0x3001, slot_no = 40;
	xwg_keypair_slot slot{};
	slot.state = XWG_KEYPAIR_LIVE;
	slot.local_index = index;
	REQUIRE(bpf_map_update_elem(sfd, &slot_no, &slot, 0) == 0);
	xwg_keypair kp = make_keypair(slot_no, boottime_ns() - 4 * kReject, 0x55);
	REQUIRE(bpf_map_update_elem(kfd, &index, &kp, BPF_NOEXIST) == 0);
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
	xwg_keypair got{};
	do {
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
		REQUIRE(bpf_map_lookup_elem(kfd, &index, &got) == 0);
	} while (!(got.flags & XWG_KEYPAIR_WIPED) && std::chrono::steady_clock::now() < deadline);
	CHECK(wiped(got));
	close(kfd);
	close(sfd);
	close(rfd);

	// Unpinned: the timer is cancelled, and its program and the maps are freed (the
	// kernel frees them asynchronously: bounded wait).
	std::filesystem::remove_all(pins);
	const auto freed_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	while ((bpf_prog_id_exists(prog) || bpf_map_id_exists(reaper_map) ||
		bpf_map_id_exists(keypairs_map)) &&
	       std::chrono::steady_clock::now() < freed_by)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	CHECK_FALSE(bpf_prog_id_exists(prog));
	CHECK_FALSE(bpf_map_id_exists(reaper_map));
	CHECK_FALSE(bpf_map_id_exists(keypairs_map));
}

TEST_CASE("the cost of a pass, from none to 196,608 keypairs")
{
	DataplaneLab lab;
	set_reject(lab, 180 * kSecond);
	REQUIRE(lab.dp.arm_key_reaper(kPeriod));
	const uint64_t young = boottime_ns();
	uint32_t installed = 1; // the lab's own
	for (uint32_t target : {1u, 1000u, 65536u, uint32_t(XWG_MAX_KEYPAIRS)}) {
		for (; installed < target; ++installed) {
			// Slots 0..installed, skipping the lab's own.
			const uint32_t slot =
				installed < DataplaneLab::kSlot + 1 ? installed - 1 : installed;
			REQUIRE(lab.dp.install_keypair(0x40000000 + installed, slot,
						       make_keypair(slot, young, 0x66)));
		}
		// A pass that began after the last install, then five whole ones.
		uint64_t passes = wait_passes(lab.dp, lab.dp.key_reaper()->passes, 2);
		const uint64_t runs = lab.dp.key_reaper()->runs;
		uint64_t worst = 0, sum = 0;
		for (int i = 0; i < 5; ++i) {
			passes = wait_passes(lab.dp, passes, 1);
			auto r = lab.dp.key_reaper();
			CHECK(r->last_pass_visited == target);
			worst = std::max<uint64_t>(worst, r->last_pass_ns);
			sum += r->last_pass_ns;
		}
		const uint64_t chunks = (lab.dp.key_reaper()->runs - runs) / 5;
		WARN("key reaper pass over " << target << " keypairs: mean " << sum / 5 / 1000
					     << " us, worst " << worst / 1000 << " us, in about "
					     << chunks << " chunks");
		// Cheap enough to make a pass every second even at the limit.
		CHECK(worst < 100'000'000ULL);
	}
	CHECK(lab.dp.key_reaper()->wiped == 0);
}
