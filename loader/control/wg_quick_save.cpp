// control/wg_quick_save.cpp — SaveConfig's file; see wg_quick_save.h.
#include "loader/control/wg_quick_save.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace xwg {

namespace {

std::string hex(std::uint32_t v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%x", v);
	return buf;
}

} // namespace

std::string wg_showconf_text(const DeviceConfig &config)
{
	const InterfaceConfig &i = config.iface;
	std::string s = "[Interface]\n";
	if (i.listen_port)
		s += "ListenPort = " + std::to_string(i.listen_port) + "\n";
	if (i.fwmark)
		s += "FwMark = " + hex(i.fwmark) + "\n";
	if (i.private_key)
		s += "PrivateKey = " + to_base64(*i.private_key) + "\n";
	s += "\n";
	for (std::size_t n = 0; n < config.peers.size(); ++n) {
		const PeerConfig &p = config.peers[n];
		s += "[Peer]\nPublicKey = " + to_base64(p.public_key) + "\n";
		if (p.preshared_key)
			s += "PresharedKey = " + to_base64(*p.preshared_key) + "\n";
		if (!p.allowed_ips.empty()) {
			s += "AllowedIPs = ";
			for (std::size_t a = 0; a < p.allowed_ips.size(); ++a)
				s += (a ? ", " : "") + p.allowed_ips[a].to_string();
			s += "\n";
		}
		if (p.endpoint)
			s += "Endpoint = " + p.endpoint->to_string() + "\n";
		if (p.persistent_keepalive)
			s += "PersistentKeepalive = " + std::to_string(p.persistent_keepalive) +
			     "\n";
		if (p.flow_ports)
			s += "FlowPorts = " + std::to_string(p.flow_ports) + "\n";
		if (n + 1 < config.peers.size())
			s += "\n";
	}
	return s;
}

std::string wg_quick_file_text(const DeviceConfig &running, const WgQuickSettings &settings)
{
	const InterfaceConfig &i = running.iface;
	std::string s = "[Interface]\n";
	for (const Cidr &a : i.addresses)
		s += "Address = " + a.to_string() + "\n";
	for (const auto &d : settings.dns_servers)
		s += "DNS = " + d + "\n";
	for (const auto &d : settings.dns_search)
		s += "DNS = " + d + "\n";
	if (i.mtu != AUTOMATIC_MTU)
		s += "MTU = " + std::to_string(i.mtu) + "\n";
	if (i.table.kind != RouteTable::Kind::automatic)
		s += "Table = " + i.table.to_string() + "\n";
	for (const auto &u : i.underlays)
		s += "Underlay = " + u + "\n";
	if (i.receive_path != ReceivePath::automatic)
		s += std::string("ReceivePath = ") + to_string(i.receive_path) + "\n";
	if (settings.save_config)
		s += "SaveConfig = true\n";
	for (const auto &[key, hooks] :
	     {std::pair{"PreUp", &settings.pre_up}, std::pair{"PostUp", &settings.post_up},
	      std::pair{"PreDown", &settings.pre_down}, std::pair{"PostDown", &settings.post_down}})
		for (const auto &h : *hooks)
			s += std::string(key) + " = " + h + "\n";
	// wg-quick puts its lines in place of showconf's "[Interface]\n" and echoes the
	// result of $(...), which has lost its trailing newlines, with one newline.
	std::string showconf = wg_showconf_text(running);
	s += showconf.substr(std::string_view("[Interface]\n").size());
	while (!s.empty() && s.back() == '\n')
		s.pop_back();
	return s + "\n";
}

void save_config_file(const std::string &path, const std::string &text)
{
	std::string tmp = path + ".XXXXXX";
	// mkostemp creates the file with mode 0600, whatever the umask.
	const int fd = mkostemp(tmp.data(), O_CLOEXEC);
	if (fd < 0)
		throw std::runtime_error("SaveConfig: cannot create a file beside " + path + ": " +
					 std::strerror(errno));
	std::size_t done = 0;
	int err = 0;
	while (done < text.size()) {
		ssize_t w = write(fd, text.data() + done, text.size() - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			break;
		}
		done += static_cast<std::size_t>(w);
	}
	if (!err && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && rename(tmp.c_str(), path.c_str()) < 0)
		err = errno;
	if (err) {
		unlink(tmp.c_str());
		throw std::runtime_error("SaveConfig: writing " + path + ": " + std::strerror(err));
	}
}

} // namespace xwg
