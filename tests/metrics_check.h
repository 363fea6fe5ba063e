// metrics_check.h — what the metrics tests share: `promtool check metrics` over a text
// (Debian's prometheus package; missing means a loud failure), the samples of an
// exposition by series, and a bounded HTTP client for the daemon's endpoint.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

namespace xwgtest {

struct PromtoolResult {
	int rc;
	std::string out;
};

// `promtool check metrics` with @text on its input (rc 0: valid and lint-clean).
inline PromtoolResult promtool_check(const std::string &text)
{
	if (std::system("command -v promtool >/dev/null 2>&1") != 0)
		throw std::runtime_error("promtool not found (Debian package prometheus; "
					 "scripts/deps.sh installs it)");
	char path[] = "/tmp/xwg-metrics-XXXXXX";
	const int fd = mkstemp(path);
	if (fd < 0)
		throw std::runtime_error("mkstemp failed");
	const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
	close(fd);
	if (!ok)
		throw std::runtime_error("writing the metrics to a temporary file failed");
	const std::string cmd =
		std::string("timeout 30 promtool check metrics < ") + path + " 2>&1";
	PromtoolResult r{-1, {}};
	if (FILE *p = popen(cmd.c_str(), "r")) {
		char buf[4096];
		std::size_t n;
		while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
			r.out.append(buf, n);
		const int status = pclose(p);
		r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	unlink(path);
	return r;
}

// Samples by series ("name{labels}" exactly as written), comments skipped.
inline std::map<std::string, double> metric_samples(const std::string &text)
{
	std::map<std::string, double> out;
	std::size_t pos = 0;
	while (pos < text.size()) {
		std::size_t end = text.find('\n', pos);
		if (end == std::string::npos)
			end = text.size();
		const std::string line = text.substr(pos, end - pos);
		pos = end + 1;
		if (line.empty() || line[0] == '#')
			continue;
		const std::size_t sp = line.rfind(' ');
		if (sp == std::string::npos)
			throw std::runtime_error("not a sample: " + line);
		out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
	}
	return out;
}

// One HTTP exchange on a new TCP connection to @ip (IPv4 or IPv6 literal) and @port, in
// the calling thread's network namespace: sends @request, returns all it gets until the
// server closes. Throws when that takes longer than @limit.
inline std::string http_exchange(const std::string &ip, unsigned port, const std::string &request,
				 std::chrono::milliseconds limit = std::chrono::seconds(5))
{
	const bool v6 = ip.find(':') != std::string::npos;
	sockaddr_storage ss{};
	socklen_t len;
	if (v6) {
		auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(static_cast<std::uint16_t>(port));
		inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
		len = sizeof(*a);
	} else {
		auto *a = reinterpret_cast<sockaddr_in *>(&ss);
		a->sin_family = AF_INET;
		a->sin_port = htons(static_cast<std::uint16_t>(port));
		inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
		len = sizeof(*a);
	}
	const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error("socket failed");
	const auto ms = limit.count();
	timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, reinterpret_cast<sockaddr *>(&ss), len) < 0) {
		close(fd);
		throw std::runtime_error("connect to " + ip + ":" + std::to_string(port) +
					 " failed");
	}
	if (!request.empty() && send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
					static_cast<ssize_t>(request.size())) {
		close(fd);
		throw std::runtime_error("send failed");
	}
	const auto deadline = std::chrono::steady_clock::now() + limit;
	std::string reply;
	char buf[65536];
	for (;;) {
		const ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			reply.append(buf, static_cast<std::size_t>(n));
		} else if (n == 0) {
			break;
		} else {
			close(fd);
			throw std::runtime_error("no complete answer from " + ip + ":" +
						 std::to_string(port) + " in time");
		}
		if (std::chrono::steady_clock::now() > deadline) {
			close(fd);
			throw std::runtime_error("answer too slow");
		}
	}
	close(fd);
	return reply;
}

// The status code of an HTTP response ("HTTP/1.1 200 OK..." -> 200), 0 if none.
inline int http_status(const std::string &reply)
{
	if (reply.size() < 12 || reply.compare(0, 5, "HTTP/") != 0)
		return 0;
	return std::atoi(reply.c_str() + 9);
}

// The body of an HTTP response ("" if there is none).
inline std::string http_body(const std::string &reply)
{
	const std::size_t end = reply.find("\r\n\r\n");
	return end == std::string::npos ? std::string() : reply.substr(end + 4);
}

} // namespace xwgtest
