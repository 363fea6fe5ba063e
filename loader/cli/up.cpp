// cli/up.cpp — `xwg up FILE.conf [--foreground]`: parse and check everything that can be
// checked without changing the system, then set the interface up in a child process. The
// parent returns 0 only once the child reports it is ready (a byte through a pipe), or 1
// with the child's error on stderr. --foreground skips the fork and logs to stderr.
//
// An interface whose daemon is alive is left alone (exit 1, "is running"); one whose data
// plane outlived its daemon is taken over (daemon.h). When the daemon is told to restart
// (`xwg restart`), it executes this program again, as installed now (an upgrade), with
// its lock: `xwg up --foreground FILE` in the same process.
#include "loader/cli/commands.h"

#include "loader/control/config_file.h"
#include "loader/control/systemd_notify.h"
#include "loader/device/daemon.h"
#include "loader/device/daemon_lock.h"
#include "loader/device/timers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <memory>

namespace xwg {

namespace {

constexpr int READY_TIMEOUT_MS = 60'000;

// Signals that end the daemon are held until its event loop reads them, so a SIGTERM
// during set-up still tears down cleanly.
void hold_signals()
{
	const sigset_t mask = daemon_stop_signals();
	sigprocmask(SIG_BLOCK, &mask, nullptr);
	signal(SIGPIPE, SIG_IGN);
}

// The program file this process runs, as installed now: after an upgrade replaced it,
// /proc/self/exe names the old one " (deleted)", and the new one is at that path.
std::string program_path()
{
	char buf[PATH_MAX];
	const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return "/proc/self/exe";
	std::string path(buf, static_cast<std::size_t>(n));
	const std::string deleted = " (deleted)";
	if (path.size() > deleted.size() &&
	    path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
		path.resize(path.size() - deleted.size());
	return path;
}

// The daemon's loop ended for a restart: the daemon goes (leaving the data plane as it
// is), the program starts again in this process with the lock, and takes over.
// Set for the next program by a background daemon restarting: its stdout and stderr are
// the log file, which it removes when it goes down (a foreground one has none).
constexpr const char *OWNS_LOG_ENV = "XWG_OWNS_LOG";

[[noreturn]] void restart(std::unique_ptr<Daemon> daemon, const std::string &config_path,
			  bool owns_log)
{
	daemon->hand_over_lock();
	if (owns_log)
		setenv(OWNS_LOG_ENV, "1", 1);
	daemon.reset();
	const std::string self = program_path();
	std::fflush(nullptr);
	const char *argv[] = {"xwg", "up", "--foreground", config_path.c_str(), nullptr};
	execv(self.c_str(), const_cast<char *const *>(argv));
	std::fprintf(stderr, "xwg: restarting %s: %s; the data plane runs on without a daemon "
			     "until `xwg up` takes it over\n",
		     self.c_str(), std::strerror(errno));
	std::exit(1);
}

// Serves until the loop ends; restarts, or returns the exit status once the daemon is
// gone (systemd hears STOPPING before the teardown).
int serve(std::unique_ptr<Daemon> daemon, const std::string &ifname, const std::string &config_path,
	  bool owns_log)
{
	const int rc = daemon->run();
	if (daemon->restart_requested())
		restart(std::move(daemon), config_path, owns_log);
	notify_stopping(ifname + " is going down");
	return rc;
}

// The child: set up, report readiness, serve. Returns the exit status.
int daemon_main(const std::string &ifname, const std::string &path, const ParsedConfig &parsed,
		const TimerSettings &timers, int ready_fd)
{
	int rc;
	try {
		auto daemon = std::make_unique<Daemon>(ifname, parsed, timers);
		int log = open(log_file_path(ifname).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			       0600);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		(void)!write(ready_fd, "R", 1);
		close(ready_fd);
		rc = serve(std::move(daemon), ifname, path, true);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "xwg up: %s\n", e.what());
		return 1;
	}
	unlink(log_file_path(ifname).c_str());
	return rc;
}

int up(const std::string &given_path, bool foreground)
{
	std::string ifname;
	ParsedConfig parsed;
	TimerSettings timers;
	// Absolute, for the daemon to read again when it restarts.
	std::string path = given_path;
	if (char *real = realpath(given_path.c_str(), nullptr)) {
		path = real;
		std::free(real);
	}
	try {
		ifname = interface_name_from_path(path);
		// (A daemon restarting itself holds the lock it hands to us.)
		if (!std::getenv("XWG_LOCK_FD") && daemon_alive(ifname)) {
			long pid = 0;
			std::ifstream(pid_file_path(ifname)) >> pid;
			std::fprintf(stderr, "xwg up: %s is running (daemon pid %ld); nothing changed\n",
				     ifname.c_str(), pid);
			return 1;
		}
		parsed = config_load(path);
		timers = TimerSettings::from_environment();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "xwg up: %s\n", e.what());
		return 1;
	}
	for (const auto &w : parsed.warnings)
		std::fprintf(stderr, "xwg up: warning: %s\n", w.c_str());
	if (!parsed.config.iface.private_key)
		std::fprintf(stderr, "xwg up: warning: %s has no PrivateKey; no handshakes until "
				     "`wg set %s private-key` gives one\n",
			     path.c_str(), ifname.c_str());

	if (foreground) {
		hold_signals();
		try {
			auto daemon = std::make_unique<Daemon>(ifname, parsed, timers);
			std::fprintf(stderr, "xwg up: %s is ready%s\n", ifname.c_str(),
				     daemon->took_over() ? " (took over the running data plane)" : "");
			// Under systemd (Type=notify): ready now (again, after a restart).
			notify_ready(ifname + (daemon->took_over() ? " took over the running data plane"
								    : " is up"));
			const bool owns_log = std::getenv(OWNS_LOG_ENV) != nullptr;
			unsetenv(OWNS_LOG_ENV);
			const int rc = serve(std::move(daemon), ifname, path, owns_log);
			if (owns_log)
				unlink(log_file_path(ifname).c_str());
			return rc;
		} catch (const std::exception &e) {
			std::fprintf(stderr, "xwg up: %s\n", e.what());
			return 1;
		}
	}

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		std::perror("xwg up: pipe");
		return 1;
	}
	std::fflush(nullptr);
	pid_t pid = fork();
	if (pid < 0) {
		std::perror("xwg up: fork");
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		setsid();
		hold_signals();
		std::exit(daemon_main(ifname, path, parsed, timers, pipefd[1]));
	}
	close(pipefd[1]);
	pollfd p{pipefd[0], POLLIN, 0};
	char byte = 0;
	bool ready = poll(&p, 1, READY_TIMEOUT_MS) == 1 && read(pipefd[0], &byte, 1) == 1 &&
		     byte == 'R';
	close(pipefd[0]);
	if (ready)
		return 0;
	// Not ready: the child said why on stderr; make sure it is gone.
	if (waitpid(pid, nullptr, WNOHANG) == 0) {
		std::fprintf(stderr, "xwg up: %s: not ready after %d s, stopping it\n",
			     ifname.c_str(), READY_TIMEOUT_MS / 1000);
		kill(pid, SIGTERM);
		waitpid(pid, nullptr, 0);
	}
	return 1;
}

} // namespace

void add_up_command(CLI::App &app)
{
	auto *cmd = app.add_subcommand("up", "Bring up the interface described by a wg-quick "
					     "file (its name is the file name without .conf)");
	static std::string path;
	static bool foreground = false;
	cmd->add_option("config", path, "wg-quick configuration file IFNAME.conf")->required();
	cmd->add_flag("--foreground", foreground, "Stay attached and log to stderr");
	cmd->callback([] {
		int rc = up(path, foreground);
		if (rc != 0)
			throw CLI::RuntimeError(rc);
	});
}

} // namespace xwg
