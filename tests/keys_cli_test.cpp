// keys_cli_test.cpp — `xwg genkey|pubkey|genpsk` against wireguard-tools' `wg`: the same
// public keys from the same private keys, each accepting the other's output, and clear
// errors with a non-zero exit for malformed input.
#include <catch2/catch.hpp>

#include "loader/types/keys.h"

#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

// build/tests/keys_cli_test -> build/xwg
std::string xwg_binary()
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	std::string path(self, static_cast<std::size_t>(n));
	path = path.substr(0, path.rfind('/'));
	path = path.substr(0, path.rfind('/')) + "/xwg";
	REQUIRE(access(path.c_str(), X_OK) == 0);
	return path;
}

struct Result {
	int status;
	std::string out, err;
};

// Runs `cmd` with `input` on stdin (bounded by timeout(1)).
Result run(const std::string &cmd, const std::string &input = "")
{
	std::string in = "/tmp/xwg-keys-in." + std::to_string(getpid());
	std::string err = "/tmp/xwg-keys-err." + std::to_string(getpid());
	{
		std::ofstream f(in, std::ios::binary);
		f << input;
	}
	FILE *p = popen(("timeout 10 " + cmd + " <" + in + " 2>" + err).c_str(), "r");
	REQUIRE(p);
	Result r;
	char buf[256];
	while (std::fgets(buf, sizeof(buf), p))
		r.out += buf;
	int st = pclose(p);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	std::ifstream e(err);
	r.err.assign(std::istreambuf_iterator<char>(e), {});
	unlink(in.c_str());
	unlink(err.c_str());
	return r;
}

bool is_key_line(const std::string &s)
{
	xwg::PublicKey k;
	return s.size() == 45 && s.back() == '\n' &&
	       xwg::from_base64(s.substr(0, 44), k) == xwg::KeyParseError::ok;
}

} // namespace

TEST_CASE("xwg and wg agree on keys")
{
	const std::string xwg = xwg_binary();
	for (int i = 0; i < 8; ++i) {
		auto ours = run(xwg + " genkey");
		REQUIRE(ours.status == 0);
		REQUIRE(is_key_line(ours.out));
		auto theirs = run("wg genkey");
		REQUIRE(theirs.status == 0);

		for (const auto &priv : {ours.out, theirs.out}) {
			auto a = run(xwg + " pubkey", priv);
			auto b = run("wg pubkey", priv);
			INFO("private " << priv);
			REQUIRE(a.status == 0);
			REQUIRE(b.status == 0);
			CHECK(a.out == b.out);
			CHECK(is_key_line(a.out));
		}
		// Without the trailing newline too.
		CHECK(run(xwg + " pubkey", ours.out.substr(0, 44)).out ==
		      run("wg pubkey", ours.out).out);
	}
	auto psk = run(xwg + " genpsk");
	REQUIRE(psk.status == 0);
	CHECK(is_key_line(psk.out));
	CHECK(run(xwg + " genpsk").out != psk.out);
}

TEST_CASE("private keys come out clamped")
{
	const std::string xwg = xwg_binary();
	for (int i = 0; i < 16; ++i) {
		auto k = run(xwg + " genkey");
		xwg::PrivateKey priv;
		REQUIRE(xwg::from_base64(k.out.substr(0, 44), priv) == xwg::KeyParseError::ok);
		CHECK((priv.data()[0] & 7) == 0);
		CHECK((priv.data()[31] & 0x80) == 0);
		CHECK((priv.data()[31] & 0x40) == 0x40);
	}
}

TEST_CASE("malformed input to pubkey: a clear message and a non-zero exit, like wg")
{
	const std::string xwg = xwg_binary();
	const std::string good = run("wg genkey").out;
	const std::string cases[] = {
		"",                                              // nothing
		"abc\n",                                         // short
		good.substr(0, 43) + "\n",                       // one character short
		good.substr(0, 44) + "x\n",                      // trailing garbage
		good.substr(0, 43) + "A",                        // no '='
		"!" + good.substr(1),                            // outside the alphabet
		good.substr(0, 30) + "\x9f\xb4" + good.substr(32), // bytes >= 0x80 (libsodium
		                                                 // 1.0.18 takes them as digits)
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", // non-zero padding bits
	};
	for (const auto &in : cases) {
		INFO("input '" << in << "'");
		auto a = run(xwg + " pubkey", in);
		auto b = run("wg pubkey", in);
		CHECK(b.status != 0);
		CHECK(a.status != 0);
		CHECK(a.out.empty());
		CHECK(a.err.find("xwg pubkey:") != std::string::npos);
	}
}
