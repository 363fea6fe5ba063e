// device/daemon_lock.cpp — see daemon_lock.h.
#include "loader/device/daemon_lock.h"

#include "loader/device/daemon.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace xwg {

namespace {

constexpr const char *LOCK_FD_ENV = "XWG_LOCK_FD";

bool same_file(int fd, const std::string &path)
{
	struct stat a{}, b{};
	return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

// The lock a re-executed daemon inherited, if XWG_LOCK_FD names one on @path.
int inherited(const std::string &path)
{
	const char *env = std::getenv(LOCK_FD_ENV);
	if (!env)
		return -1;
	const int fd = std::atoi(env);
	unsetenv(LOCK_FD_ENV);
	if (fd < 0 || !same_file(fd, path) || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

} // namespace

std::string lock_file_path(const std::string &ifname)
{
	return std::string(XWG_RUN_DIR) + "/" + ifname + ".lock";
}

std::optional<DaemonLock> DaemonLock::acquire(const std::string &ifname)
{
	const std::string path = lock_file_path(ifname);
	if (int fd = inherited(path); fd >= 0)
		return DaemonLock(path, fd);
	// The file may be removed by a daemon finishing its teardown between our open and
	// our flock: then we hold a lock on a file nobody else can find. Try again.
	for (int attempt = 0; attempt < 8; ++attempt) {
		const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			throw std::runtime_error(path + ": " + std::strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			if (errno == EWOULDBLOCK)
				return std::nullopt;
			throw std::runtime_error(path + ": flock: " + std::strerror(errno));
		}
		if (same_file(fd, path))
			return DaemonLock(path, fd);
		close(fd);
	}
	throw std::runtime_error(path + ": keeps changing under us");
}

DaemonLock::DaemonLock(DaemonLock &&other) noexcept
	: path_(std::move(other.path_)), fd_(other.fd_)
{
	other.fd_ = -1;
}

DaemonLock &DaemonLock::operator=(DaemonLock &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			close(fd_);
		path_ = std::move(other.path_);
		fd_ = other.fd_;
		other.fd_ = -1;
	}
	return *this;
}

DaemonLock::~DaemonLock()
{
	if (fd_ >= 0)
		close(fd_);
}

void DaemonLock::remove()
{
	if (fd_ >= 0)
		unlink(path_.c_str());
}

void DaemonLock::release_for_exec()
{
	if (fd_ < 0)
		return;
	fcntl(fd_, F_SETFD, 0);
	setenv(LOCK_FD_ENV, std::to_string(fd_).c_str(), 1);
	fd_ = -1; // stays open and locked in the next program
}

bool daemon_alive(const std::string &ifname)
{
	const int fd = open(lock_file_path(ifname).c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	const bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

} // namespace xwg
