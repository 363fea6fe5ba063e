// wg_quick_hooks_test.cpp — hooks and resolvconf as wg-quick runs them
// (loader/control/wg_quick_hooks.h), without a tunnel: hooks that write files in a scratch
// directory, and a fake resolvconf first on PATH that records its arguments and stdin.
#include <catch2/catch.hpp>

#include "loader/control/wg_quick_hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace xwg;

namespace {

std::string slurp(const std::string &path)
{
	std::ifstream f(path);
	std::ostringstream s;
	s << f.rdbuf();
	return s.str();
}

std::string error_of(const std::function<void()> &fn)
{
	try {
		fn();
	} catch (const HookError &e) {
		return e.what();
	}
	return "(no error)";
}

// A scratch directory, removed with its files.
struct Scratch {
	std::string path = "/tmp/xwg-hooks-test-" + std::to_string(getpid());
	Scratch()
	{
		std::system(("rm -rf " + path).c_str());
		REQUIRE(mkdir(path.c_str(), 0700) == 0);
	}
	~Scratch() { std::system(("rm -rf " + path).c_str()); }
	std::string file(const std::string &name) const { return path + "/" + name; }
};

// PATH with @dir first, put back when it goes.
struct PathFirst {
	std::string old = std::getenv("PATH") ? std::getenv("PATH") : "";
	explicit PathFirst(const std::string &dir) { setenv("PATH", (dir + ":" + old).c_str(), 1); }
	~PathFirst() { setenv("PATH", old.c_str(), 1); }
};

// What the process writes to @fd while fn runs.
std::string captured(int fd, const std::function<void()> &fn)
{
	char name[] = "/tmp/xwg-hooks-out-XXXXXX";
	int out = mkstemp(name);
	REQUIRE(out >= 0);
	fflush(nullptr);
	int saved = dup(fd);
	dup2(out, fd);
	try {
		fn();
	} catch (...) {
		dup2(saved, fd);
		close(saved);
		close(out);
		unlink(name);
		throw;
	}
	fflush(nullptr);
	dup2(saved, fd);
	close(saved);
	close(out);
	std::string text = slurp(name);
	unlink(name);
	return text;
}

} // namespace

TEST_CASE("%i becomes the interface name, everywhere in the snippet")
{
	CHECK(hook_command("iptables -A FORWARD -i %i -j ACCEPT; echo %i", "wg0") ==
	      "iptables -A FORWARD -i wg0 -j ACCEPT; echo wg0");
	CHECK(hook_command("%%i %I % i %", "wg0") == "%wg0 %I % i %"); // as ${hook//%i/wg0}
	CHECK(hook_command("", "wg0").empty());
}

TEST_CASE("hooks run with bash in order; the first failure stops the list and names it")
{
	Scratch s;
	const std::string log = s.file("log");
	run_hooks("PostUp",
		  {"echo one %i >> " + log, "", "echo two, $((1+2)) >> " + log,
		   "[[ x == x ]] && echo three >> " + log},
		  "xwg9");
	CHECK(slurp(log) == "one xwg9\ntwo, 3\nthree\n");

	CHECK(error_of([&] {
		      run_hooks("PreUp", {"echo a >> " + log, "exit 3", "echo never >> " + log},
				"xwg9");
	      }) == "PreUp \"exit 3\" exited with status 3");
	CHECK(slurp(log) == "one xwg9\ntwo, 3\nthree\na\n");

	// wg-quick runs hooks under set -e -o pipefail: a failing command fails the hook.
	CHECK(error_of([&] { run_hooks("PostUp", {"false; echo after >> " + log}, "x"); }) ==
	      "PostUp \"false; echo after >> " + log + "\" exited with status 1");
	CHECK(error_of([&] { run_hooks("PostUp", {"false | true"}, "x"); }) ==
	      "PostUp \"false | true\" exited with status 1");
	CHECK(slurp(log) == "one xwg9\ntwo, 3\nthree\na\n");
	CHECK(error_of([&] { run_hooks("PreDown", {"kill -9 $$"}, "x"); }) ==
	      "PreDown \"kill -9 $$\" was killed by signal 9 (Killed)");
	CHECK(error_of([&] { run_hooks("PostDown", {"no-such-command-xwg"}, "x"); }) ==
	      "PostDown \"no-such-command-xwg\" exited with status 127");
}

TEST_CASE("hooks get a clean signal state, LC_ALL=C, and the daemon's stdout and stderr")
{
	Scratch s;
	// The daemon blocks SIGTERM and ignores SIGPIPE; its hooks must not inherit that.
	sigset_t term, before;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &before);
	auto old_pipe = signal(SIGPIPE, SIG_IGN);
	run_hooks("PostUp",
		  {"exec grep -E '^Sig(Blk|Ign)' /proc/self/status > " + s.file("sig"),
		   "echo \"$LC_ALL\" > " + s.file("lc")},
		  "x");
	CHECK(error_of([&] { run_hooks("PostUp", {"kill -TERM $$; sleep 5"}, "x"); }) ==
	      "PostUp \"kill -TERM $$; sleep 5\" was killed by signal 15 (Terminated)");
	signal(SIGPIPE, old_pipe);
	sigprocmask(SIG_SETMASK, &before, nullptr);
	CHECK(slurp(s.file("sig")) == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	CHECK(slurp(s.file("lc")) == "C\n");

	std::string err;
	const std::string out = captured(STDOUT_FILENO, [&] {
		err = captured(STDERR_FILENO,
			       [&] { run_hooks("PostUp", {"echo to-out; echo to-err >&2"}, "x"); });
	});
	CHECK(out == "to-out\n");
	CHECK(err == "[#] echo to-out; echo to-err >&2\nto-err\n");
}

TEST_CASE("while a hook runs, the daemon's fd is served (a PostUp may run `wg`)")
{
	Scratch s;
	// The hook asks through one pipe and waits (bounded) for the answer on another; only
	// service() answers.
	int ask[2], answer[2];
	REQUIRE(pipe(ask) == 0);
	REQUIRE(pipe(answer) == 0);
	int served = 0;
	KeepServing serving{ask[0], [&] {
				    char buf[64];
				    if (read(ask[0], buf, sizeof(buf)) > 0) {
					    ++served;
					    REQUIRE(write(answer[1], "pong\n", 5) == 5);
				    }
			    }};
	const std::string self = "/proc/" + std::to_string(getpid()) + "/fd/";
	run_hooks("PostUp",
		  {"echo ping > " + self + std::to_string(ask[1]) + "; read -t 5 x < " + self +
		   std::to_string(answer[0]) + "; echo \"$x\" > " + s.file("answer")},
		  "x", serving);
	for (int fd : {ask[0], ask[1], answer[0], answer[1]})
		close(fd);
	CHECK(served == 1);
	CHECK(slurp(s.file("answer")) == "pong\n");
}

TEST_CASE("resolvconf: record name, input, arguments, and a clear error when it is missing")
{
	Scratch s;
	// The interface-order prefix: the first plain NAME* line.
	std::ofstream(s.file("order")) << "lo.inet6\nlo.inet*\n  tun*  \ntap*\n";
	CHECK(resolvconf_interface("wg0", s.file("order")) == "tun.wg0");
	std::ofstream(s.file("order2")) << "lo.inet*\nem+([0-9])?(_+([0-9]))*\n*\n";
	CHECK(resolvconf_interface("wg0", s.file("order2")) == "wg0");
	CHECK(resolvconf_interface("wg0", s.file("absent")) == "wg0");

	WgQuickSettings dns;
	dns.dns_servers = {"192.0.2.53", "2001:db8::53"};
	dns.dns_search = {"example.com", "corp.example"};
	CHECK(resolvconf_input(dns) ==
	      "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.com corp.example\n");

	// A fake resolvconf first on PATH records what it was given.
	const std::string bin = s.file("bin"), calls = s.file("calls");
	REQUIRE(mkdir(bin.c_str(), 0755) == 0);
	std::ofstream(bin + "/resolvconf") << "#!/bin/sh\necho \"resolvconf $*\" >> " << calls
					   << "\nif [ \"$1\" = -a ]; then cat >> " << calls
					   << "; fi\nexit \"${FAKE_RC:-0}\"\n";
	chmod((bin + "/resolvconf").c_str(), 0755);
	const std::string record = resolvconf_interface("xwg9");
	{
		PathFirst path(bin);
		REQUIRE(find_in_path("resolvconf") == bin + "/resolvconf");
		CHECK(dns_set("xwg9", dns));
		dns_unset("xwg9");
		CHECK(slurp(calls) == "resolvconf -a " + record +
					      " -m 0 -x\nnameserver 192.0.2.53\nnameserver "
					      "2001:db8::53\nsearch example.com corp.example\n"
					      "resolvconf -d " +
					      record + " -f\n");
		// Search domains alone are not applied (wg-quick looks at name servers only).
		WgQuickSettings search_only;
		search_only.dns_search = {"example.com"};
		CHECK_FALSE(dns_set("xwg9", search_only));
		CHECK_FALSE(dns_set("xwg9", WgQuickSettings{}));
		setenv("FAKE_RC", "2", 1);
		CHECK(error_of([&] { dns_set("xwg9", dns); }) ==
		      "DNS: resolvconf -a " + record + " -m 0 -x exited with status 2");
		unsetenv("FAKE_RC");
	}

	// Not installed: up must fail, saying so.
	const std::string old = std::getenv("PATH");
	setenv("PATH", bin.c_str(), 1);
	unlink((bin + "/resolvconf").c_str());
	const std::string missing = error_of([&] { dns_set("xwg9", dns); });
	const std::string missing_down = error_of([&] { dns_unset("xwg9"); });
	setenv("PATH", old.c_str(), 1);
	CHECK(missing == "DNS = 192.0.2.53, 2001:db8::53 needs resolvconf, which is not installed "
			 "(not in PATH=" +
				 bin +
				 "): install openresolv or resolvconf, or remove DNS from "
				 "[Interface]");
	CHECK(missing_down ==
	      "removing DNS needs resolvconf, which is not installed (not in PATH=" + bin +
		      "): install openresolv or resolvconf, or remove DNS from "
		      "[Interface]");
	CHECK_FALSE(find_in_path("no-such-program-xwg"));
	CHECK(find_in_path("bash"));
}
