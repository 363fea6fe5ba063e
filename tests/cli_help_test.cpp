// cli_help_test.cpp — `xwg --help` and `xwg CMD --help` are complete: every subcommand
// answers --help with status 0, every subcommand, option and positional argument has a
// description, and xwg(8) documents every subcommand and option the binary has. The
// lists are read from the binary's own help, so a command added later is checked too.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Result {
	int status;
	std::string out;
};

Result run(const std::string &args)
{
	FILE *p = popen(("timeout 10 " XWG_BINARY " " + args + " 2>&1").c_str(), "r");
	REQUIRE(p);
	Result r;
	char buf[512];
	while (std::fgets(buf, sizeof(buf), p))
		r.out += buf;
	int st = pclose(p);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r;
}

// One entry of a CLI11 help section: "  NAME[,NAME] [TYPE...]   description".
struct Entry {
	std::string names; // "-h,--help", "--json", "config TEXT REQUIRED", "genkey"
	std::string description;
};

// The entries of section `title` ("Subcommands:", "Options:", "Positionals:"). CLI11
// puts the description after a run of spaces, or on the next, further indented line when
// the name column overflows.
std::vector<Entry> section(const std::string &help, const std::string &title)
{
	std::vector<Entry> out;
	std::istringstream in(help);
	std::string line;
	bool inside = false;
	while (std::getline(in, line)) {
		if (!inside) {
			inside = line == title;
			continue;
		}
		if (line.empty() || line[0] != ' ')
			break;
		if (line.compare(0, 3, "   ") == 0 && !out.empty() &&
		    out.back().description.empty()) {
			out.back().description = line.substr(line.find_first_not_of(' '));
			continue;
		}
		std::string body = line.substr(2);
		auto gap = body.find("  ");
		Entry e;
		e.names = body.substr(0, gap);
		if (gap != std::string::npos) {
			auto start = body.find_first_not_of(' ', gap);
			if (start != std::string::npos)
				e.description = body.substr(start);
		}
		out.push_back(e);
	}
	return out;
}

// The long options ("--json") among an entry's names.
std::vector<std::string> long_options(const std::string &names)
{
	std::vector<std::string> out;
	std::istringstream in(names.substr(0, names.find(' ')));
	std::string name;
	while (std::getline(in, name, ','))
		if (name.rfind("--", 0) == 0)
			out.push_back(name);
	return out;
}

std::string man_page()
{
	std::ifstream f(XWG_MAN_DIR "/xwg.8");
	REQUIRE(f);
	std::ostringstream text;
	text << f.rdbuf();
	return text.str();
}

// "--foreground" as roff source writes it: "\-\-foreground".
std::string roff(const std::string &option)
{
	std::string out;
	for (char c : option)
		out += c == '-' ? std::string("\\-") : std::string(1, c);
	return out;
}

} // namespace

TEST_CASE("xwg --help lists every subcommand with a description")
{
	auto top = run("--help");
	REQUIRE(top.status == 0);
	auto commands = section(top.out, "Subcommands:");
	std::set<std::string> names;
	for (const auto &c : commands) {
		INFO("subcommand " << c.names);
		CHECK(!c.description.empty());
		names.insert(c.names);
	}
	// What xwg has had from the start; later commands are found through the help itself.
	for (const char *base : {"genkey", "genpsk", "pubkey", "up", "down", "show"})
		CHECK(names.count(base) == 1);
	for (const auto &o : section(top.out, "Options:")) {
		INFO("option " << o.names);
		CHECK(!o.description.empty());
	}
}

TEST_CASE("each subcommand's --help exits 0 and describes each option, and xwg(8) has them")
{
	const std::string man = man_page();
	auto commands = section(run("--help").out, "Subcommands:");
	REQUIRE(commands.size() >= 6);
	std::set<std::string> long_seen;
	for (const auto &c : commands) {
		INFO("xwg " << c.names << " --help");
		auto help = run(c.names + " --help");
		CHECK(help.status == 0);
		// The help starts with what the command does, then how to call it.
		CHECK(help.out.rfind(c.description + "\n", 0) == 0);
		CHECK(help.out.find("Usage: ") != std::string::npos);
		CHECK(man.find(".B xwg " + c.names + "\n") != std::string::npos);

		auto options = section(help.out, "Options:");
		REQUIRE(!options.empty()); // at least -h,--help
		for (const auto &o : options) {
			INFO("option " << o.names);
			CHECK(!o.description.empty());
			for (const auto &name : long_options(o.names)) {
				long_seen.insert(name);
				if (name != "--help")
					CHECK(man.find(roff(name)) != std::string::npos);
			}
		}
		for (const auto &p : section(help.out, "Positionals:")) {
			INFO("positional " << p.names);
			CHECK(!p.description.empty());
		}
	}
	// The parser must have seen what we know is there.
	CHECK(long_seen.count("--foreground") == 1);
	CHECK(long_seen.count("--json") == 1);
	CHECK(long_seen.count("--help") == 1);
}

TEST_CASE("xwg --version names the project's version")
{
	auto v = run("--version");
	CHECK(v.status == 0);
	CHECK(v.out == "xwg " XWG_VERSION "\n");
}
