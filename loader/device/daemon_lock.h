// device/daemon_lock.h — whether an interface's daemon is alive, decided by a lock it holds
// (flock on /run/xwg/IFNAME.lock) rather than by its pid: a killed daemon can stay a zombie
// for long where PID 1 does not reap, and kill(pid, 0) then says it lives. The kernel
// drops the lock the moment the process dies, zombie or not.
#pragma once

#include <optional>
#include <string>

namespace xwg {

std::string lock_file_path(const std::string &ifname);

class DaemonLock {
public:
	// Takes the lock, or nullopt when another process holds it. A lock handed over by
	// a daemon re-executing itself (XWG_LOCK_FD, see release_for_exec) is taken over.
	// Throws std::runtime_error when the file cannot be opened.
	static std::optional<DaemonLock> acquire(const std::string &ifname);

	DaemonLock(DaemonLock &&other) noexcept;
	DaemonLock &operator=(DaemonLock &&other) noexcept;
	~DaemonLock(); // releases it (the file stays; see remove())

	// Removes the lock file while still holding the lock: the last step of a daemon's
	// teardown, so a new daemon can only lock a new file once this one is done.
	void remove();
	// Keeps the lock open across execve() and names its fd in XWG_LOCK_FD (a restart).
	void release_for_exec();

private:
	DaemonLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
	std::string path_;
	int fd_ = -1;
};

// True when a process holds @ifname's lock.
bool daemon_alive(const std::string &ifname);

} // namespace xwg
