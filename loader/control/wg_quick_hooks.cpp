// control/wg_quick_hooks.cpp — hooks and resolvconf, as wg-quick runs them; see
// wg_quick_hooks.h.
#include "loader/control/wg_quick_hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

extern char **environ;

namespace xwg {

namespace {

// A file descriptor closed when it goes out of scope.
struct Fd {
	int fd = -1;
	explicit Fd(int f = -1) : fd(f) {}
	~Fd() { reset(); }
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	void reset()
	{
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
};

// The daemon's environment with LC_ALL=C, as wg-quick exports it to everything it runs.
std::vector<std::string> child_environment()
{
	std::vector<std::string> env;
	for (char **e = environ; e && *e; ++e)
		if (std::strncmp(*e, "LC_ALL=", 7) != 0)
			env.emplace_back(*e);
	env.emplace_back("LC_ALL=C");
	return env;
}

std::vector<char *> c_strings(std::vector<std::string> &v)
{
	std::vector<char *> out;
	for (auto &s : v)
		out.push_back(s.data());
	out.push_back(nullptr);
	return out;
}

// "exited with status 3", "was killed by signal 9 (Killed)".
std::string describe_status(int status)
{
	if (WIFEXITED(status))
		return "exited with status " + std::to_string(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
		       strsignal(WTERMSIG(status)) + ")";
	return "ended with wait status " + std::to_string(status);
}

// Runs argv[0] (looked up in PATH) with @input on its stdin (or the daemon's stdin when
// null) and the daemon's stdout and stderr; serves @serving until it exits. Returns the
// wait status; throws HookError (naming @what) when it cannot be started.
//
// fork + execve rather than posix_spawn: glibc's posix_spawn leaves its two internal
// signals ignored in the child, and ignored signals survive exec.
int run_command(const std::string &what, std::vector<std::string> argv, const std::string *input,
		const KeepServing &serving)
{
	const auto program = argv[0].find('/') == std::string::npos ? find_in_path(argv[0])
								    : std::optional(argv[0]);
	if (!program)
		throw HookError(what + ": cannot run " + argv[0] + ": not found in PATH");
	Fd in_read, in_write;
	if (input) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			throw HookError(what + ": pipe: " + std::strerror(errno));
		in_read.fd = p[0];
		in_write.fd = p[1];
	}
	auto env = child_environment();
	auto c_argv = c_strings(argv), c_env = c_strings(env);
	std::fflush(nullptr); // what we printed comes before what the child prints
	const pid_t pid = fork();
	if (pid < 0)
		throw HookError(what + ": fork: " + std::strerror(errno));
	if (pid == 0) {
		// Only async-signal-safe calls from here on.
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		struct sigaction dfl {};
		dfl.sa_handler = SIG_DFL;
		for (int sig = 1; sig < NSIG; ++sig)
			sigaction(sig, &dfl, nullptr);
		if (in_read.fd >= 0)
			dup2(in_read.fd, STDIN_FILENO);
		execve(program->c_str(), c_argv.data(), c_env.data());
		_exit(127);
	}
	in_read.reset();

	// A pidfd turns "the child exited" into one more fd to poll (Linux 5.3, below xwg's
	// floor).
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (in_write.fd >= 0)
		fcntl(in_write.fd, F_SETFL, O_NONBLOCK);
	std::size_t sent = 0;
	for (;;) {
		pollfd fds[3];
		nfds_t n = 0;
		fds[n++] = {pidfd.fd, POLLIN, 0};
		const nfds_t serve_at = serving.fd >= 0 ? n : 3;
		if (serving.fd >= 0)
			fds[n++] = {serving.fd, POLLIN, 0};
		const nfds_t input_at = in_write.fd >= 0 ? n : 3;
		if (in_write.fd >= 0)
			fds[n++] = {in_write.fd, POLLOUT, 0};
		// Without a pidfd (it cannot fail on a supported kernel), look every 50 ms.
		if (poll(fds, n, pidfd.fd >= 0 ? -1 : 50) < 0 && errno != EINTR)
			break;
		if (input_at < n && fds[input_at].revents) {
			ssize_t w = write(in_write.fd, input->data() + sent, input->size() - sent);
			if (w > 0)
				sent += static_cast<std::size_t>(w);
			// All written, or the child closed its stdin (EPIPE: SIGPIPE is ignored).
			if (sent == input->size() || (w < 0 && errno != EAGAIN && errno != EINTR))
				in_write.reset();
		}
		if (serve_at < n && fds[serve_at].revents && serving.service)
			serving.service();
		if (pidfd.fd < 0 || fds[0].revents) {
			int status = 0;
			const pid_t done = waitpid(pid, &status, pidfd.fd >= 0 ? 0 : WNOHANG);
			if (done == pid)
				return status;
			if (done < 0 && errno != EINTR)
				break;
		}
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return status;
}

std::string quoted(std::string_view s)
{
	return "\"" + std::string(s) + "\"";
}

std::string resolvconf_path_or_throw(const std::string &what)
{
	auto path = find_in_path("resolvconf");
	if (!path) {
		const char *p = std::getenv("PATH");
		throw HookError(what + " needs resolvconf, which is not installed (not in PATH=" +
				(p ? p : "") +
				"): install openresolv or resolvconf, or remove DNS from "
				"[Interface]");
	}
	return *path;
}

} // namespace

std::string hook_command(std::string_view hook, std::string_view ifname)
{
	std::string out;
	for (std::size_t i = 0; i < hook.size(); ++i) {
		if (hook[i] == '%' && i + 1 < hook.size() && hook[i + 1] == 'i') {
			out += ifname;
			++i;
		} else {
			out += hook[i];
		}
	}
	return out;
}

void run_hooks(std::string_view phase, const std::vector<std::string> &hooks,
	       const std::string &ifname, const KeepServing &serving)
{
	for (const std::string &hook : hooks) {
		const std::string cmd = hook_command(hook, ifname);
		std::fprintf(stderr, "[#] %s\n", cmd.c_str());
		const std::string what = std::string(phase) + " " + quoted(cmd);
		const int status = run_command(
			what, {"bash", "-e", "-o", "pipefail", "-O", "extglob", "-c", cmd}, nullptr,
			serving);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			throw HookError(what + " " + describe_status(status));
	}
}

std::optional<std::string> find_in_path(std::string_view name)
{
	const char *path = std::getenv("PATH");
	std::string_view dirs = path ? path : "";
	for (;;) {
		const std::size_t colon = dirs.find(':');
		std::string dir(dirs.substr(0, colon));
		std::string candidate = (dir.empty() ? "." : dir) + "/" + std::string(name);
		struct stat st {};
		if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
		    access(candidate.c_str(), X_OK) == 0)
			return candidate;
		if (colon == std::string_view::npos)
			return std::nullopt;
		dirs = dirs.substr(colon + 1);
	}
}

std::string resolvconf_interface(const std::string &ifname, const std::string &order_file)
{
	std::ifstream order(order_file);
	for (std::string line; std::getline(order, line);) {
		// `read -r` trims the blanks around a line.
		const auto b = line.find_first_not_of(" \t");
		const auto e = line.find_last_not_of(" \t\r");
		if (b == std::string::npos)
			continue;
		std::string_view entry = std::string_view(line).substr(b, e - b + 1);
		if (entry.size() < 2 || entry.back() != '*')
			continue;
		std::string_view name = entry.substr(0, entry.size() - 1);
		bool plain = true;
		for (char c : name)
			plain &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '-';
		if (plain)
			return std::string(name) + "." + ifname;
	}
	return ifname;
}

std::string resolvconf_input(const WgQuickSettings &settings)
{
	std::string text;
	for (const auto &s : settings.dns_servers)
		text += "nameserver " + s + "\n";
	if (!settings.dns_search.empty()) {
		text += "search";
		for (const auto &d : settings.dns_search)
			text += " " + d;
		text += "\n";
	}
	return text;
}

bool dns_set(const std::string &ifname, const WgQuickSettings &settings, const KeepServing &serving)
{
	if (settings.dns_servers.empty())
		return false;
	std::string servers;
	for (const auto &s : settings.dns_servers)
		servers += (servers.empty() ? "" : ", ") + s;
	const std::string program = resolvconf_path_or_throw("DNS = " + servers);
	const std::string record = resolvconf_interface(ifname);
	std::vector<std::string> argv = {program, "-a", record, "-m", "0", "-x"};
	const std::string what = "DNS: resolvconf -a " + record + " -m 0 -x";
	std::fprintf(stderr, "[#] resolvconf -a %s -m 0 -x\n", record.c_str());
	const std::string input = resolvconf_input(settings);
	const int status = run_command(what, argv, &input, serving);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		throw HookError(what + " " + describe_status(status));
	return true;
}

void dns_unset(const std::string &ifname)
{
	const std::string program = resolvconf_path_or_throw("removing DNS");
	const std::string record = resolvconf_interface(ifname);
	const std::string what = "DNS: resolvconf -d " + record + " -f";
	std::fprintf(stderr, "[#] resolvconf -d %s -f\n", record.c_str());
	const int status = run_command(what, {program, "-d", record, "-f"}, nullptr, {});
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		throw HookError(what + " " + describe_status(status));
}

} // namespace xwg
